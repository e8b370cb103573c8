import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { joinTimeoutMs, waitingToJoinSince } from '../../../functions/resync/join-timeout.js';
import type { Machine } from '../../../shared/machine/types.js';

const T = '2026-01-01T00:00:00.000Z';

test('JOIN_CLUSTER_TIMEOUT: Go durations; unset, empty or 0 is off; garbage is refused', () => {
  assert.is(joinTimeoutMs({}), undefined);
  assert.is(joinTimeoutMs(undefined), undefined);
  assert.is(joinTimeoutMs({ JOIN_CLUSTER_TIMEOUT: '' }), undefined);
  assert.is(joinTimeoutMs({ JOIN_CLUSTER_TIMEOUT: '0' }), undefined);
  assert.is(joinTimeoutMs({ JOIN_CLUSTER_TIMEOUT: '15m' }), 900_000);
  assert.is(joinTimeoutMs({ JOIN_CLUSTER_TIMEOUT: '1h30m' }), 5_400_000);
  assert.is(joinTimeoutMs({ JOIN_CLUSTER_TIMEOUT: '2.5s' }), 2_500);
  assert.is(joinTimeoutMs({ JOIN_CLUSTER_TIMEOUT: '500ms' }), 500);
  for (const bad of ['15', '15 minutes', 'm', '10m junk', '-5m'])
    assert.throws(() => joinTimeoutMs({ JOIN_CLUSTER_TIMEOUT: bad }), /JOIN_CLUSTER_TIMEOUT/, bad);
});

const msOwner = { apiVersion: 'cluster.k8s.io/v1alpha1', kind: 'MachineSet', name: 'pool', uid: 'ms-uid', controller: true };
const machine = (o: { owned?: boolean; nodeRef?: boolean; deleting?: boolean; vmCreated?: 'True' | 'False' | null }): Machine => ({
  apiVersion: 'cluster.k8s.io/v1alpha1',
  kind: 'Machine',
  metadata: {
    name: 'm',
    namespace: 'ns',
    uid: 'u',
    resourceVersion: '1',
    ...(o.owned === false ? {} : { ownerReferences: [msOwner] }),
    ...(o.deleting ? { deletionTimestamp: T } : {}),
  },
  status: {
    ...(o.nodeRef ? { nodeRef: { apiVersion: 'v1', kind: 'Node', name: 'n', uid: 'nu' } } : {}),
    providerStatus:
      o.vmCreated === null
        ? { phase: 'Provisioning' }
        : { conditions: [{ type: 'VirtualMachineCreated', status: o.vmCreated ?? 'True', lastTransitionTime: T }] },
  },
});

test('join timeout applies to a live MachineSet Machine with its VM created and no Node, since the VM', () => {
  assert.is(waitingToJoinSince(machine({})), Date.parse(T));
  assert.is(waitingToJoinSince(machine({ nodeRef: true })), undefined, 'joined');
  assert.is(waitingToJoinSince(machine({ owned: false })), undefined, 'no MachineSet to replace it');
  assert.is(waitingToJoinSince(machine({ deleting: true })), undefined, 'already going');
  assert.is(waitingToJoinSince(machine({ vmCreated: 'False' })), undefined, 'no VM yet');
  assert.is(waitingToJoinSince(machine({ vmCreated: null })), undefined, 'written before conditions: unknown, not timed');
});

test.run();
