/**
 * What the node function writes to a Node: the owned-by label always, the Machine's spec
 * labels, annotations and taints plus `cluster.k8s.io/machine` once the Node is Ready — only
 * our keys, nothing others set removed or changed, nothing written when all is there.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mergeTaints, nodeWrite } from '../../../shared/node/merge.js';
import { machine, node } from './factories.js';

const spec = {
  metadata: { labels: { role: 'worker', zone: 'a' }, annotations: { note: 'hi' } },
  taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }],
};

test('not Ready: only the owned-by label; once there, nothing', () => {
  const m = machine({ uid: 'u-1', spec });
  const w = nodeWrite(node(), m, false);
  assert.equal(w, { metadata: { labels: { 'machine-controller/owned-by': 'u-1' } }, specCopied: false });
  assert.is(nodeWrite(node({ labels: { 'machine-controller/owned-by': 'u-1' } }), m, false), undefined);
});

test('Ready: spec labels, annotations (+ cluster.k8s.io/machine) and taints added; others kept', () => {
  const m = machine({ uid: 'u-1', spec });
  const n = node({
    labels: { 'kubernetes.io/hostname': 'md-1', zone: 'b' },
    annotations: { 'node.alpha.kubernetes.io/ttl': '0' },
    taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }],
  });
  const w = nodeWrite(n, m, true)!;
  assert.equal(w.metadata, {
    labels: { role: 'worker', zone: 'a', 'machine-controller/owned-by': 'u-1' },
    annotations: { note: 'hi', 'cluster.k8s.io/machine': 'machines/md-1' },
  });
  assert.equal(w.taints, [
    { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' },
    { key: 'dedicated', value: 'db', effect: 'NoSchedule' },
  ]);
  assert.ok(w.specCopied);
  // Applied as a merge patch, the Node has everything: nothing more to write.
  const after = node({
    labels: { ...n.metadata.labels, ...w.metadata!.labels },
    annotations: { ...n.metadata.annotations, ...w.metadata!.annotations },
    taints: w.taints,
  });
  assert.is(nodeWrite(after, m, true), undefined);
});

test('taints: identity is key + effect; a changed value is updated in place, timeAdded kept', () => {
  const have = [
    { key: 'dedicated', value: 'web', effect: 'NoSchedule', timeAdded: '2026-01-01T00:00:00Z' },
    { key: 'dedicated', value: 'web', effect: 'NoExecute' },
  ];
  assert.equal(mergeTaints(have, [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }]), [
    { key: 'dedicated', value: 'db', effect: 'NoSchedule', timeAdded: '2026-01-01T00:00:00Z' },
    { key: 'dedicated', value: 'web', effect: 'NoExecute' },
  ]);
  assert.is(mergeTaints(have, [{ key: 'dedicated', value: 'web', effect: 'NoExecute' }]), undefined);
  assert.is(mergeTaints([], []), undefined);
});

test('malformed spec entries are ignored, not copied', () => {
  const m = machine({
    uid: 'u-1',
    spec: { metadata: { labels: { ok: 'yes', bad: 5 } }, taints: [{ key: '', effect: 'NoSchedule' }, { key: 'k' }, 'x'] },
  });
  const w = nodeWrite(node({ labels: { 'machine-controller/owned-by': 'u-1' } }), m, true)!;
  assert.equal(w.metadata?.labels, { ok: 'yes' });
  assert.is(w.taints, undefined);
});

test.run();
