/**
 * The Machine status the node function writes for a Node: nodeRef in machine-controller's
 * ObjectReference shape, the kubelet version, the mirrored Ready condition; nothing (no write)
 * once the Machine says all of it, whatever the Node's heartbeat does.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { machineStatus } from '../../../shared/node/status.js';
import { machine, node, readyCondition } from './factories.js';

const NOW = '2026-01-01T12:00:00Z';

test('first link: nodeRef, versions.kubelet, conditions Ready, lastUpdated', () => {
  const n = node({ ready: readyCondition('True', 'T1') });
  assert.equal(machineStatus(machine(), n, NOW), {
    nodeRef: { apiVersion: 'v1', kind: 'Node', name: 'md-1', uid: 'node-uid-md-1' },
    versions: { kubelet: 'v1.36.3' },
    conditions: [
      { type: 'Ready', status: 'True', lastTransitionTime: 'T1', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
    ],
    lastUpdated: NOW,
  });
});

test('applied, nothing more to write; a heartbeat changes nothing; a new Node of the same name rewrites nodeRef only', () => {
  const n = node({ ready: readyCondition('True', 'T1') });
  const linked = machine({ status: machineStatus(machine(), n, NOW) });
  assert.is(machineStatus(linked, n, '2026-01-02T00:00:00Z'), undefined);
  const beat = node({ ready: { ...readyCondition('True', 'T1'), lastHeartbeatTime: '2026-01-01T11:00:00Z' } });
  assert.is(machineStatus(linked, beat, NOW), undefined);
  const replaced = node({ uid: 'other', ready: readyCondition('True', 'T1') });
  assert.equal(Object.keys(machineStatus(linked, replaced, NOW)!).sort(), ['lastUpdated', 'nodeRef']);
});

test('NotReady: only the condition changes, other condition types kept', () => {
  const n = node({ ready: readyCondition('True', 'T1') });
  const linked = machine({ status: machineStatus(machine(), n, NOW) });
  (linked.status!.conditions as unknown[]).unshift({ type: 'Other', status: 'True' });
  const s = machineStatus(linked, node({ ready: readyCondition('False', 'T2', 'KubeletNotReady') }), NOW)!;
  assert.equal(Object.keys(s).sort(), ['conditions', 'lastUpdated']);
  assert.equal(
    (s.conditions as { type: string; status: string }[]).map((c) => `${c.type}=${c.status}`),
    ['Other=True', 'Ready=False'],
  );
});

test.run();
