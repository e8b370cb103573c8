import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  configVarBoolSchema,
  configVarStringSchema,
  offlineResolver,
  parseGoBool,
  resolveBool,
  resolveString,
  resolveStringOrEnv,
} from '../../../shared/providerspec/configvar.js';
import { fakeResolver } from './helpers.js';

const cvs = (v: unknown) => configVarStringSchema.parse(v);
const ref = (namespace: string, name: string, key: string) => ({ namespace, name, key });

test('ConfigVarString: plain string, bare number and bool become strings as in Go', () => {
  assert.equal(cvs('2Gi'), { value: '2Gi' });
  assert.equal(cvs(2), { value: '2' });
  assert.equal(cvs(1.5), { value: '1.5' });
  assert.equal(cvs(true), { value: 'true' });
  assert.equal(cvs(''), { value: '' });
});

test('ConfigVarString: object form with refs, keys case-insensitive', () => {
  assert.equal(cvs({ value: 'x' }), { value: 'x' });
  assert.equal(cvs({ secretKeyRef: ref('ns', 's', 'k') }), { value: '', secretKeyRef: ref('ns', 's', 'k') });
  assert.equal(cvs({ ConfigMapKeyRef: { Namespace: 'ns', NAME: 'cm', key: 'k' }, Value: 'v' }), {
    value: 'v',
    configMapKeyRef: ref('ns', 'cm', 'k'),
  });
  // ObjectReference fields are legal inside a selector and dropped.
  assert.equal(cvs({ secretKeyRef: { namespace: 'ns', name: 's', key: 'k', kind: 'Secret' } }).secretKeyRef, ref('ns', 's', 'k'));
});

test('ConfigVarString: unknown keys in the object form are ignored like Go, but reported', () => {
  assert.equal(cvs({ value: 'x', secretRef: 'y' }), { value: 'x', ignoredFields: ['secretRef'] });
});

test('ConfigVarString: invalid forms', () => {
  const r1 = configVarStringSchema.safeParse({ value: 5 });
  assert.not.ok(r1.success);
  assert.match(r1.error!.issues[0].message, 'json: cannot unmarshal number into Go value of type string');
  const r2 = configVarStringSchema.safeParse(['a']);
  assert.not.ok(r2.success);
  assert.match(r2.error!.issues[0].message, 'cannot unmarshal array');
});

test('ConfigVarBool: bool, object form, and Go error for strings', () => {
  assert.equal(configVarBoolSchema.parse(false), { value: false });
  assert.equal(configVarBoolSchema.parse({ Value: true }), { value: true });
  assert.equal(configVarBoolSchema.parse({ secretKeyRef: ref('a', 'b', 'c') }), { secretKeyRef: ref('a', 'b', 'c') });
  const bad = configVarBoolSchema.safeParse('true');
  assert.not.ok(bad.success);
  assert.is(bad.error!.issues[0].message, "error parsing value: 'json: cannot unmarshal string into Go value of type bool'");
  assert.not.ok(configVarBoolSchema.safeParse({ value: 'true' }).success);
});

test('resolveString precedence: complete secretKeyRef, then complete configMapKeyRef, then value', async () => {
  const r = fakeResolver({ secrets: { 'ns/s': { k: 'from-secret' } }, configMaps: { 'ns/cm': { k: 'from-cm' } } });
  const both = { value: 'inline', secretKeyRef: ref('ns', 's', 'k'), configMapKeyRef: ref('ns', 'cm', 'k') };
  assert.is(await resolveString(both, r), 'from-secret');
  assert.is(await resolveString({ ...both, secretKeyRef: ref('ns', 's', '') }, r), 'from-cm');
  assert.is(await resolveString({ ...both, secretKeyRef: ref('', 's', 'k'), configMapKeyRef: ref('ns', '', 'k') }, r), 'inline');
  assert.is(await resolveString({ value: 'inline' }, r), 'inline');
  assert.is(await resolveString(undefined, r), '');
  assert.equal(r.reads, ['secret:ns/s/k', 'configmap:ns/cm/k']);
});

test('resolveString errors carry machine-controller wording', async () => {
  const r = fakeResolver({ secrets: { 'ns/s': { other: 'x' } } });
  await resolveString({ value: '', secretKeyRef: ref('ns', 'missing', 'k') }, r).then(
    () => assert.unreachable(),
    (e: Error) => assert.is(e.message, `error retrieving secret 'missing' from namespace 'ns': 'secrets "missing" not found'`),
  );
  await resolveString({ value: '', secretKeyRef: ref('ns', 's', 'k') }, r).then(
    () => assert.unreachable(),
    (e: Error) => assert.is(e.message, "secret 's' in namespace 'ns' has no key 'k'"),
  );
  await resolveString({ value: '', configMapKeyRef: ref('ns', 'cm', 'k') }, r).then(
    () => assert.unreachable(),
    (e: Error) => assert.match(e.message, "error retrieving configmap 'cm' from namespace 'ns'"),
  );
});

test('resolveStringOrEnv falls back to env on error or empty, "" when env unset', async () => {
  const r = fakeResolver({ env: { KV: 'from-env' } });
  assert.is(await resolveStringOrEnv({ value: 'inline' }, 'KV', r), 'inline');
  assert.is(await resolveStringOrEnv({ value: '' }, 'KV', r), 'from-env');
  assert.is(await resolveStringOrEnv(undefined, 'KV', r), 'from-env');
  assert.is(await resolveStringOrEnv({ value: 'x', secretKeyRef: ref('ns', 'gone', 'k') }, 'KV', r), 'from-env');
  assert.is(await resolveStringOrEnv({ value: '' }, 'UNSET', r), '');
});

test('resolveBool: value, isSet and ParseBool of referenced values', async () => {
  const r = fakeResolver({ secrets: { 'ns/s': { yes: 'T', no: '0', bad: 'yes' } } });
  assert.equal(await resolveBool(undefined, r), { value: false, isSet: false });
  assert.equal(await resolveBool({}, r), { value: false, isSet: false });
  assert.equal(await resolveBool({ value: false }, r), { value: false, isSet: true });
  assert.equal(await resolveBool({ value: false, secretKeyRef: ref('ns', 's', 'yes') }, r), { value: true, isSet: true });
  assert.equal(await resolveBool({ secretKeyRef: ref('ns', 's', 'no') }, r), { value: false, isSet: true });
  await resolveBool({ secretKeyRef: ref('ns', 's', 'bad') }, r).then(
    () => assert.unreachable(),
    (e: Error) => assert.is(e.message, 'strconv.ParseBool: parsing "yes": invalid syntax'),
  );
});

test('parseGoBool accepts exactly strconv.ParseBool inputs', () => {
  for (const t of ['1', 't', 'T', 'TRUE', 'true', 'True']) assert.ok(parseGoBool(t));
  for (const f of ['0', 'f', 'F', 'FALSE', 'false', 'False']) assert.not.ok(parseGoBool(f));
  for (const bad of ['', 'yes', 'tRUE', ' true']) assert.throws(() => parseGoBool(bad));
});

test('offlineResolver: env, provided secrets, and clear errors for the rest', async () => {
  const r = offlineResolver({ A: 'a' }, { 'ns/s': { k: 'v' } });
  assert.is(r.env('A'), 'a');
  assert.is(r.env('B'), undefined);
  assert.is(r.env('toString'), undefined);
  assert.is(await r.secret('ns', 's', 'k'), 'v');
  await r.secret('ns', 's', 'nope').then(
    () => assert.unreachable(),
    (e: Error) => assert.is(e.message, "secret 's' in namespace 'ns' has no key 'nope'"),
  );
  await r.secret('ns', 'other', 'k').then(
    () => assert.unreachable(),
    (e: Error) => assert.is(e.message, "secretKeyRef ns/other (key 'k') cannot be resolved offline: no such secret was provided"),
  );
  await r.configMap('ns', 'cm', 'k').then(
    () => assert.unreachable(),
    (e: Error) => assert.is(e.message, "configMapKeyRef ns/cm (key 'k') cannot be resolved offline"),
  );
});

test.run();
