import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ConditionType,
  conditionPatch,
  conditionTrue,
  errorOwnerOf,
  nodeReadyCondition,
  ownsError,
  providerCondition,
  withCondition,
  type ProviderCondition,
} from '../../../shared/machine/conditions.js';
import type { Machine } from '../../../shared/machine/types.js';

const T1 = '2026-01-01T00:00:00.000Z';
const T2 = '2026-01-01T00:05:00.000Z';

const machine = (status: Machine['status']): Machine => ({
  apiVersion: 'cluster.k8s.io/v1alpha1',
  kind: 'Machine',
  metadata: { name: 'm', namespace: 'ns', uid: 'u', resourceVersion: '1' },
  status,
});

test('withCondition: a new condition is appended with now as its transition time', () => {
  const next = withCondition([], { type: 'VMIReady', status: 'True', reason: 'VMIReady' }, T1);
  assert.equal(next, [{ type: 'VMIReady', status: 'True', reason: 'VMIReady', lastTransitionTime: T1 }]);
});

test('withCondition: same status keeps lastTransitionTime; a new reason or message is still written', () => {
  const cur: ProviderCondition[] = [
    { type: 'ImageImported', status: 'True', lastTransitionTime: T1 },
    { type: 'VMIReady', status: 'False', reason: 'VMIPending', lastTransitionTime: T1 },
  ];
  const next = withCondition(cur, { type: 'VMIReady', status: 'False', reason: 'VMIStopped', message: 'shut down' }, T2);
  assert.equal(next, [cur[0], { type: 'VMIReady', status: 'False', reason: 'VMIStopped', message: 'shut down', lastTransitionTime: T1 }]);
  assert.is(cur[1].reason, 'VMIPending', 'the input is not modified');
});

test('withCondition: a status change moves lastTransitionTime; nothing changed → undefined', () => {
  const cur: ProviderCondition[] = [{ type: 'VMIReady', status: 'False', reason: 'VMIPending', lastTransitionTime: T1 }];
  assert.equal(withCondition(cur, { type: 'VMIReady', status: 'True', reason: 'VMIReady' }, T2), [
    { type: 'VMIReady', status: 'True', reason: 'VMIReady', lastTransitionTime: T2 },
  ]);
  assert.is(withCondition(cur, { type: 'VMIReady', status: 'False', reason: 'VMIPending' }, T2), undefined);
});

test('reading: absent fields (a Machine written before conditions) read as unknown', () => {
  for (const m of [machine(undefined), machine({}), machine({ providerStatus: null }), machine({ providerStatus: { phase: 'Ready' } })]) {
    assert.is(providerCondition(m, ConditionType.VMIReady), undefined);
    assert.is(conditionTrue(m, ConditionType.VMIReady), false);
    assert.is(nodeReadyCondition(m), undefined);
    assert.equal(conditionPatch(m, { type: 'VMIReady', status: 'True' }, T1), {
      conditions: [{ type: 'VMIReady', status: 'True', lastTransitionTime: T1 }],
    });
  }
  const m = machine({ providerStatus: { conditions: [{ type: 'ImageImported', status: 'True', lastTransitionTime: T1 }] } });
  assert.is(conditionTrue(m, ConditionType.ImageImported), true);
  assert.equal(conditionPatch(m, { type: 'ImageImported', status: 'True' }, T2), {}, 'already so: nothing to write');
});

test('errorOwner decides who may clear an error, not the message', () => {
  const dv = machine({
    errorReason: 'CreateError',
    errorMessage: 'VirtualMachineInstance looks like a vmi error',
    providerStatus: { errorOwner: 'datavolume' },
  });
  assert.is(errorOwnerOf(dv), 'datavolume');
  assert.is(ownsError(dv, 'datavolume'), true);
  assert.is(ownsError(dv, 'vmi'), false);
  // No error: nobody owns one (a stale errorOwner alone means nothing).
  assert.is(errorOwnerOf(machine({ providerStatus: { errorOwner: 'vmi' } })), undefined);
  // Written before errorOwner: only the machine function's own reasons are attributable.
  assert.is(errorOwnerOf(machine({ errorReason: 'InvalidConfiguration', errorMessage: 'x' })), 'machine');
  assert.is(errorOwnerOf(machine({ errorReason: 'NameCollision', errorMessage: 'x' })), 'machine');
  assert.is(errorOwnerOf(machine({ errorReason: 'CreateError', errorMessage: 'DataVolume ns/x import failed' })), undefined);
});

test('nodeReadyCondition: machine-controller status.conditions Ready, unknown values as Unknown', () => {
  const m = (status: string) =>
    machine({
      conditions: [
        { type: 'MemoryPressure', status: 'False' },
        { type: 'Ready', status, lastTransitionTime: T1 },
      ],
    });
  assert.equal(nodeReadyCondition(m('True')), { status: 'True', since: T1 });
  assert.equal(nodeReadyCondition(m('False')), { status: 'False', since: T1 });
  assert.equal(nodeReadyCondition(m('bogus')), { status: 'Unknown', since: T1 });
  assert.is(nodeReadyCondition(machine({ conditions: [] })), undefined);
});

test.run();
