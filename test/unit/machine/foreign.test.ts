/**
 * Whose Machines and sets are ours (shared/machine/foreign.ts): the rule the machine,
 * datavolume, vmi, machineset, machinedeployment and resync functions share.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { foreignMachine, foreignSet, foreignUnlessHeld, WORKER_LABEL } from '../../../shared/machine/foreign.js';
import { MACHINE_FINALIZER } from '../../../shared/constants.js';

const machine = (cloudProvider: unknown, labels?: Record<string, string>) => ({
  metadata: { labels },
  spec: { providerSpec: { value: { cloudProvider } } },
});
const set = (cloudProvider: unknown, templateLabels?: Record<string, string>, labels?: Record<string, string>) => ({
  metadata: { labels },
  spec: { template: machine(cloudProvider, templateLabels) },
});

test('Machines: another cloudProvider or worker label is foreign; kubevirt, empty or missing is ours', () => {
  assert.is(foreignMachine(machine('kubevirt'), {}), undefined);
  assert.is(foreignMachine(machine(''), {}), undefined, 'the parse reports a missing provider, as machine-controller does');
  assert.is(foreignMachine(machine(undefined), {}), undefined);
  assert.is(foreignMachine(machine('aws'), {}), 'cloudProvider aws is not ours');
  assert.is(foreignMachine(machine('hetzner'), {}), 'cloudProvider hetzner is not ours');
  assert.match(foreignMachine(machine('kubevirt', { [WORKER_LABEL]: 'other' }), {})!, /names another controller/);
  assert.is(foreignMachine(machine('kubevirt', { [WORKER_LABEL]: 'w1' }), { WORKER_NAME: 'w1' }), undefined);
  assert.match(
    foreignMachine(machine('kubevirt'), { WORKER_NAME: 'w1' })!,
    /names another controller/,
    'unlabelled, but we have a worker name',
  );
});

test('a Machine that became foreign while it carries our finalizer stays ours until it is released', () => {
  const held = { ...machine('aws'), metadata: { finalizers: [MACHINE_FINALIZER] } };
  assert.is(foreignUnlessHeld(held, {}), undefined);
  assert.is(foreignUnlessHeld(machine('aws'), {}), 'cloudProvider aws is not ours');
  assert.is(foreignUnlessHeld({ ...machine('aws'), metadata: { finalizers: ['other.io/x'] } }, {}), 'cloudProvider aws is not ours');
});

test("sets: foreign when their template's Machines would be, or their own worker label names another controller", () => {
  assert.is(foreignSet(set('kubevirt'), {}), undefined);
  assert.is(foreignSet(set('aws'), {}), 'cloudProvider aws is not ours');
  assert.match(foreignSet(set('kubevirt', { [WORKER_LABEL]: 'other' }), {})!, /names another controller/);
  assert.match(foreignSet(set('kubevirt', undefined, { [WORKER_LABEL]: 'other' }), {})!, /names another controller/);
  assert.is(foreignSet(set('kubevirt', { [WORKER_LABEL]: 'w1' }, { [WORKER_LABEL]: 'w1' }), { WORKER_NAME: 'w1' }), undefined);
  assert.is(foreignSet({ spec: {} }, {}), undefined, 'a set without a template is the rollout validation’s to report');
});

test.run();
