import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withDefaults } from '../../../shared/rollout/defaults.js';
import {
  computeTemplateHash,
  equalIgnoreHash,
  fnv1a32,
  machineSetName,
  safeEncodeString,
  stableStringify,
} from '../../../shared/rollout/hash.js';
import {
  copyDeploymentAnnotations,
  maxRevision,
  revisionOf,
  setDeploymentRevision,
  setNewMachineSetAnnotations,
} from '../../../shared/rollout/revisions.js';
import { md, ms, template } from './helpers.js';

const enc = (s: string) => new TextEncoder().encode(s);

// ---- hash ----------------------------------------------------------------------------------------

test('FNV-1a 32 reference vectors', () => {
  assert.is(fnv1a32(enc('')), 0x811c9dc5);
  assert.is(fnv1a32(enc('a')), 0xe40c292c);
  assert.is(fnv1a32(enc('foobar')), 0xbf9cf968);
  // Hashing in parts continues the same state.
  assert.is(fnv1a32(enc('bar'), fnv1a32(enc('foo'))), 0xbf9cf968);
});

test('SafeEncodeString maps each character into "bcdfghjklmnpqrstvwxz2456789"', () => {
  // Checked against k8s.io/apimachinery/pkg/util/rand (see the Go cross-check test).
  assert.is(safeEncodeString('3214735720'), '7658c79c64');
  assert.is(safeEncodeString('0123456789'), '456789bcdf'); // '0' is 48, 48 % 27 = 21 → '4'
  assert.match(safeEncodeString('4294967295'), /^[bcdfghjklmnpqrstvwxz2456789]+$/);
});

test('stableStringify sorts keys and treats null/undefined/empty like absent', () => {
  assert.is(
    stableStringify({ b: 1, a: { d: [1, { z: null, y: 2 }], c: {} }, e: undefined, f: null, g: [] }),
    '{"a":{"d":[1,{"y":2}]},"b":1}',
  );
  assert.is(stableStringify({ list: [null, {}, []] }), '{"list":[null,{},[]]}');
});

test('the template hash is a decimal uint32, stable across key order, sensitive to content', () => {
  const a = template('img-a');
  const reordered = { spec: a.spec, metadata: { labels: { app: 'workers' } } };
  const h = computeTemplateHash(a);
  assert.match(h, /^[0-9]+$/);
  assert.ok(Number(h) < 2 ** 32);
  assert.is(computeTemplateHash(reordered), h);
  assert.is.not(computeTemplateHash(template('img-b')), h);
  assert.is(computeTemplateHash({ ...a, metadata: { ...a.metadata, annotations: {} } }), h);
});

test('a collision count changes the hash; 0 differs from none (as a nil vs a zero pointer in Go)', () => {
  const t = template();
  const none = computeTemplateHash(t);
  assert.is.not(computeTemplateHash(t, 0), none);
  assert.is.not(computeTemplateHash(t, 1), computeTemplateHash(t, 0));
  assert.is(computeTemplateHash(t, 1), computeTemplateHash(t, 1));
});

test('machineSetName is <md>-<encoded hash>', () => {
  assert.is(machineSetName('workers', '3214735720'), 'workers-7658c79c64');
  assert.is(machineSetName(md(), '3214735720'), 'workers-7658c79c64');
});

test('equalIgnoreHash ignores the machine-template-hash label and empty-vs-absent', () => {
  const a = template();
  const withHash = structuredClone(a);
  withHash.metadata!.labels!['machine-template-hash'] = '123';
  assert.ok(equalIgnoreHash(a, withHash));
  const noLabels = { spec: a.spec };
  const onlyHash = { metadata: { labels: { 'machine-template-hash': '9' } }, spec: a.spec };
  assert.ok(equalIgnoreHash(noLabels, onlyHash));
  const other = structuredClone(withHash);
  other.metadata!.labels!.extra = 'x';
  assert.not.ok(equalIgnoreHash(a, other));
  assert.not.ok(equalIgnoreHash(template('x'), template('y')));
});

// ---- revisions -----------------------------------------------------------------------------------

const withRev = (name: string, rev?: string) => {
  const s = ms(name, 1);
  if (rev !== undefined) s.metadata.annotations = { 'machinedeployment.clusters.k8s.io/revision': rev };
  return s;
};

test('revisionOf / maxRevision: absent → 0, malformed skipped', () => {
  assert.is(revisionOf(withRev('a')), 0);
  assert.is(revisionOf(withRev('a', '7')), 7);
  assert.is(revisionOf(withRev('a', 'x')), undefined);
  assert.is(maxRevision([withRev('a', '3'), withRev('b', 'x'), withRev('c', '5'), withRev('d')]), 5);
  assert.is(maxRevision([]), 0);
});

test('copyDeploymentAnnotations skips last-applied and the revision annotations', () => {
  const d = md();
  d.metadata.annotations = {
    team: 'infra',
    'kubectl.kubernetes.io/last-applied-configuration': '{}',
    'machinedeployment.clusters.k8s.io/revision': '4',
    'machinedeployment.clusters.k8s.io/revision-history': '1',
    'machinedeployment.clusters.k8s.io/desired-replicas': '9',
    'machinedeployment.clusters.k8s.io/max-replicas': '9',
  };
  const r = copyDeploymentAnnotations(d, { own: 'x' });
  assert.equal(r, { annotations: { own: 'x', team: 'infra' }, changed: true });
  assert.is(copyDeploymentAnnotations(d, r.annotations).changed, false);
});

test('a new MachineSet gets revision, desired-replicas and max-replicas (= replicas + maxSurge)', () => {
  const d = withDefaults(md({ replicas: 10, maxSurge: '25%', maxUnavailable: 0 }));
  d.metadata.annotations = { team: 'infra' };
  const r = setNewMachineSetAnnotations(d, undefined, '3', false);
  assert.equal(r.annotations, {
    team: 'infra',
    'machinedeployment.clusters.k8s.io/revision': '3',
    'machinedeployment.clusters.k8s.io/desired-replicas': '10',
    'machinedeployment.clusters.k8s.io/max-replicas': '13',
  });
  assert.ok(r.changed);
});

test('an existing MachineSet: the revision only rises; a re-used set records its old revision', () => {
  const d = withDefaults(md({ replicas: 2 }));
  const rev = 'machinedeployment.clusters.k8s.io/revision';
  const hist = 'machinedeployment.clusters.k8s.io/revision-history';
  assert.equal(setNewMachineSetAnnotations(d, { [rev]: '5' }, '3', true), { annotations: { [rev]: '5' }, changed: false });
  assert.equal(setNewMachineSetAnnotations(d, { [rev]: '1' }, '3', true).annotations, { [rev]: '3', [hist]: '1' });
  assert.equal(setNewMachineSetAnnotations(d, { [rev]: '3', [hist]: '1' }, '5', true).annotations, { [rev]: '5', [hist]: '1,3' });
  // No revision yet: set, no history; existing sets do not get replica annotations here.
  assert.equal(setNewMachineSetAnnotations(d, {}, '2', true).annotations, { [rev]: '2' });
  // Only MD annotations changed: no history entry (machine-controller would append one).
  d.metadata.annotations = { note: 'y' };
  assert.equal(setNewMachineSetAnnotations(d, { [rev]: '3', [hist]: '1' }, '3', true).annotations, { note: 'y', [rev]: '3', [hist]: '1' });
  // A malformed revision is left alone.
  assert.equal(setNewMachineSetAnnotations(d, { [rev]: 'x' }, '3', true), { annotations: { [rev]: 'x' }, changed: false });
});

test('setDeploymentRevision', () => {
  const d = md();
  assert.equal(setDeploymentRevision(d, '2'), { annotations: { 'machinedeployment.clusters.k8s.io/revision': '2' }, changed: true });
  d.metadata.annotations = { 'machinedeployment.clusters.k8s.io/revision': '2' };
  assert.is(setDeploymentRevision(d, '2').changed, false);
});

test.run();
