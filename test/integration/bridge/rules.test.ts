/**
 * The bridge's pure rules, checked against what Knative and apimachinery do: ISO-8601
 * delivery durations, the adapter configuration the ApiServerSource controller would write
 * (GVRs from plural guessing, label selector strings), filter dialects, the webhook's filter
 * admission, structured-mode parsing and backoff arithmetic.
 * (No cluster needed; kept beside the bridge's other tests, which this folder owns.)
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseIsoDuration } from '../../../dev/bridge/duration.js';
import { adapterInvocation, gvrOf, guessPlural, labelSelectorString, sourceConfig } from '../../../dev/bridge/apiserver-adapter.js';
import type { ApiServerSourceSpec } from '../../../dev/bridge/manifests.js';
import { filterProblems, triggerMatches } from '../../../dev/bridge/filters.js';
import { eventFromHttp, InvalidEventError, rfc3339Nano, type BridgeEvent } from '../../../dev/bridge/cloudevent.js';
import { backoffMs, isRetryable } from '../../../dev/bridge/dispatcher.js';

const test = suite('bridge: rules');

test('ISO-8601 durations as DeliverySpec uses them', () => {
  assert.is(parseIsoDuration('PT0.2S'), 200);
  assert.is(parseIsoDuration('PT30S'), 30_000);
  assert.is(parseIsoDuration('PT1M30S'), 90_000);
  assert.is(parseIsoDuration('P1DT1H'), 90_000_000);
  for (const bad of ['', 'P', 'PT', '30s', 'PT-1S']) assert.throws(() => parseIsoDuration(bad), bad);
});

test('plurals and GVRs as the controller guesses them (UnsafeGuessKindToResource)', () => {
  assert.equal(['Machine', 'VirtualMachineInstance', 'Policy', 'Ingress', 'Endpoints', 'ConfigMap'].map(guessPlural), [
    'machines',
    'virtualmachineinstances',
    'policies',
    'ingresses',
    'endpoints',
    'configmaps',
  ]);
  assert.equal(gvrOf({ apiVersion: 'v1', kind: 'ConfigMap' }), { Group: '', Version: 'v1', Resource: 'configmaps' });
  assert.equal(gvrOf({ apiVersion: 'cdi.kubevirt.io/v1beta1', kind: 'DataVolume' }), {
    Group: 'cdi.kubevirt.io',
    Version: 'v1beta1',
    Resource: 'datavolumes',
  });
});

test('label selectors as LabelSelectorAsSelector(...).String() writes them: sorted by key, values sorted', () => {
  assert.is(
    labelSelectorString({
      matchLabels: { c: 'd', a: 'b' },
      matchExpressions: [
        { key: 'e', operator: 'In', values: ['2', '1'] },
        { key: 'b', operator: 'DoesNotExist' },
      ],
    }),
    'a=b,!b,c=d,e in (1,2)',
  );
  assert.is(labelSelectorString({}), undefined, 'an empty selector selects everything');
  assert.throws(() => labelSelectorString({ matchExpressions: [{ key: 'a', operator: 'Gt' }] }));
});

test("K_SOURCE_CONFIG and the adapter's environment, as the controller's makeEnv writes them", () => {
  const spec: ApiServerSourceSpec = {
    name: 'machines',
    namespace: 'ns',
    mode: 'Resource',
    resources: [{ apiVersion: 'cluster.k8s.io/v1alpha1', kind: 'Machine', selector: { matchLabels: { a: 'b' } } }],
    serviceAccountName: 'machines-source',
    owner: { apiVersion: 'cluster.k8s.io/v1alpha1', kind: 'MachineSet' },
    ceOverrides: { extensions: { cluster: 'dev' } },
    failFast: false,
    sink: { kind: 'broker', broker: 'ns/default' },
  };
  assert.is(
    JSON.stringify(sourceConfig(spec, { namespaces: ['ns'], allNamespaces: false })),
    '{"namespaces":["ns"],"allNamespaces":false,"resources":[{"gvr":{"Group":"cluster.k8s.io","Version":"v1alpha1","Resource":"machines"},"selector":"a=b"}],"owner":{"apiVersion":"cluster.k8s.io/v1alpha1","kind":"MachineSet"},"mode":"Resource"}',
  );
  const { args, env } = adapterInvocation(spec, { namespaces: [], allNamespaces: true }, 'http://127.0.0.1:1/ns/default', '/k');
  assert.equal(args, ['--kubeconfig', '/k', '--disable-ha', '-v=2']);
  assert.equal(
    [env.NAME, env.NAMESPACE, env.K_SINK, env.K_CE_OVERRIDES],
    ['machines', 'ns', 'http://127.0.0.1:1/ns/default', '{"extensions":{"cluster":"dev"}}'],
  );
  assert.equal(JSON.parse(env.K_SOURCE_CONFIG!).allNamespaces, true);
  assert.is(JSON.parse(JSON.parse(env.K_LOGGING_CONFIG!)['zap-logger-config']).level, 'info');
  assert.is(env.PROFILING_PORT, '0', 'the profiling server on a free port');
});

const ev = (attributes: Record<string, string>): BridgeEvent => ({
  attributes: { specversion: '1.0', id: '1', source: '/s', type: 'a.b.c', ...attributes },
});

test('filter dialects', () => {
  const e = ev({ kind: 'Machine' });
  assert.ok(triggerMatches({ filters: [{ prefix: { type: 'a.b.' } }, { suffix: { type: '.c' } }, { exact: { kind: 'Machine' } }] }, e));
  assert.not.ok(triggerMatches({ filters: [{ exact: { kind: 'machine' } }] }, e), 'case-sensitive');
  assert.not.ok(triggerMatches({ filters: [{ exact: { missing: '' } }] }, e), 'an absent attribute never matches');
  assert.ok(triggerMatches({ filters: [{ any: [{ exact: { kind: 'X' } }, { exact: { kind: 'Machine' } }] }] }, e));
  assert.not.ok(triggerMatches({ filters: [{ all: [{ exact: { kind: 'Machine' } }, { exact: { type: 'x' } }] }] }, e));
  assert.ok(triggerMatches({ filters: [{ not: { exact: { kind: 'X' } } }] }, e));
  assert.ok(triggerMatches({ filters: [{ exact: {} }] }, e), 'an empty dialect filters nothing');
  assert.ok(triggerMatches({ filter: { attributes: { kind: '' } } }, e), 'legacy "" = any value');
  assert.not.ok(triggerMatches({ filter: { attributes: { other: '' } } }, e), 'legacy: the attribute must be present');
  assert.ok(
    triggerMatches({ filters: [{ exact: { kind: 'Machine' } }], filter: { attributes: { kind: 'X' } } }, e),
    'filters wins over filter',
  );
  assert.ok(triggerMatches({}, e), 'no filter: everything');
});

test('webhook admission of filters', () => {
  assert.equal(filterProblems({ filters: [{ prefix: { type: 'a' } }, { any: [{ exact: { kind: 'b' } }] }] }), []);
  const p = filterProblems({
    filters: [{ exact: { a: '1', b: '2' } }, { exact: { a: '1' }, prefix: { b: '2' } }, { not: { suffix: { 'Bad-Name': 'x' } } }],
    filter: { attributes: { UPPER: 'x' } },
  });
  assert.is(p.length, 4, p.join('\n'));
  assert.match(p.join('\n'), /filters\[0\]\.exact: multiple items found/);
  assert.match(p.join('\n'), /filters\[1\]: multiple dialects found/);
  assert.match(p.join('\n'), /filters\[2\]\.not\.suffix: invalid attribute name "Bad-Name"/);
});

test('structured mode: JSON data, data_base64, non-JSON strings; binary needs ce-specversion', () => {
  const structured = (o: object) =>
    eventFromHttp(
      { 'content-type': 'application/cloudevents+json; charset=utf-8' },
      Buffer.from(JSON.stringify({ specversion: '1.0', id: '1', source: '/s', type: 't', ...o })),
    );
  assert.is(structured({ data: { a: 1 } }).data!.toString(), '{"a":1}');
  assert.is(structured({ data_base64: Buffer.from('raw').toString('base64') }).data!.toString(), 'raw');
  assert.is(structured({ datacontenttype: 'text/plain', data: 'hi' }).data!.toString(), 'hi');
  assert.is(structured({ answer: 42 }).attributes.answer, '42');
  assert.throws(
    () => structured({ id: '' }),
    (e: unknown) => e instanceof InvalidEventError,
  );
  assert.throws(
    () => eventFromHttp({ 'content-type': 'application/json' }, Buffer.from('{}')),
    (e: unknown) => e instanceof InvalidEventError,
  );
});

test('retry table and backoff arithmetic', () => {
  assert.equal([0, 404, 408, 409, 429, 500, 502, 503].map(isRetryable), Array(8).fill(true));
  assert.equal([301, 400, 401, 403, 413, 422].map(isRetryable), Array(6).fill(false));
  assert.equal(
    [0, 1, 2, 9].map((n) => backoffMs({ backoffPolicy: 'exponential', backoffDelayMs: 200 }, n)),
    [200, 400, 800, 102_400],
  );
  assert.equal(
    [0, 1, 2].map((n) => backoffMs({ backoffPolicy: 'linear', backoffDelayMs: 200 }, n)),
    [0, 200, 400],
  );
  assert.match(rfc3339Nano(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
});

test.run();
