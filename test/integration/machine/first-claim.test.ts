/**
 * A new Machine's first reconcile confirms the event's payload with its first write (a JSON
 * patch testing the whole stored object) instead of reading the Machine; a payload that is not
 * exactly what is stored falls back to the read, and checks that fail after that first write
 * take back what it announced so the next reconcile runs them again.
 */
import * as assert from 'uvu/assert';
import { adminKube } from '../support/admin.js';
import { uniqueName } from '../support/kube.js';
import { machineSuite, exampleProviderSpec, machineObject } from '../support/machine-env.js';
import { post, resourceEvent } from '../support/apiserver-events.js';
import { requestCounts, diff } from '../../bench/api-metrics.js';
import { MACHINE_FINALIZER } from '../../../shared/constants.js';
import { FollowUpType } from '../../../events/followup.js';

const { test, ctx } = machineSuite('machine function: first write confirms the payload');

const specWith = (imageUrl: string) =>
  exampleProviderSpec('kubevirt-machinedeployment.yaml', {
    kubeconfigB64: ctx.env.infraKubeconfigB64,
    kubeconfigRaw: ctx.env.saKubeconfig,
    imageUrl,
  }).value;
const machinePath = (name: string) => `/apis/cluster.k8s.io/v1alpha1/namespaces/${ctx.ns}/machines/${name}`;
const vmPath = (name: string) => `/apis/kubevirt.io/v1/namespaces/${ctx.env.infraNamespace}/virtualmachines/${name}`;
const create = (name: string, value: unknown) =>
  adminKube().create(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ctx.ns}/machines`, machineObject(name, ctx.ns, value));

/** Requests on Machines the API server counted while `fn` ran (the test's own included). */
async function machineRequests(fn: () => Promise<void>): Promise<Map<string, number>> {
  const before = await requestCounts(adminKube(), ['machines']);
  await fn();
  return diff(await requestCounts(adminKube(), ['machines']), before);
}

test('a fresh payload: one guarded PATCH, no read of the Machine, the VM built', async () => {
  const name = uniqueName('fresh');
  const m = await create(name, specWith(ctx.env.imageUrl));
  let status = 0;
  const counts = await machineRequests(async () => {
    status = await post(ctx.env.fn.url, resourceEvent('add', m));
  });
  assert.is(status, 200, ctx.env.fn.logs.at(-1));
  assert.is(counts.get('GET machines') ?? 0, 0, JSON.stringify([...counts]));
  assert.is(counts.get('PATCH machines'), 1, JSON.stringify([...counts]));
  assert.ok(await adminKube().get(vmPath(name)), 'VM created');
  const stored = await adminKube().get(machinePath(name));
  assert.ok(stored.metadata.finalizers.includes(MACHINE_FINALIZER));
  assert.is(stored.status.providerStatus.virtualMachine.name, name);
});

test('a payload the Machine no longer matches: read first, then built from what is stored', async () => {
  const name = uniqueName('stale');
  const m = await create(name, specWith(ctx.env.imageUrl));
  // Changed after the event was produced: the payload's whole-object test must fail.
  const changed = await adminKube().patch(machinePath(name), 'merge', {
    metadata: { annotations: { 'example.com/changed': 'yes' } },
    spec: { providerSpec: { value: { cloudProviderSpec: { virtualMachine: { instancetype: { name: 'standard-4' } } } } } },
  });
  let status = 0;
  const counts = await machineRequests(async () => {
    status = await post(ctx.env.fn.url, resourceEvent('add', m));
  });
  assert.is(status, 200, ctx.env.fn.logs.at(-1));
  assert.is(counts.get('GET machines'), 1, JSON.stringify([...counts]));
  const vm = await adminKube().get(vmPath(name));
  assert.is(vm.spec.instancetype.name, 'standard-4', "the stored spec's instancetype, not the payload's standard-2");
  assert.is(
    (await adminKube().get(machinePath(name))).metadata.annotations['example.com/changed'],
    changed.metadata.annotations['example.com/changed'],
  );
});

test('the image check fails after the first write: the VM name and the claim are taken back; fixed, it provisions', async () => {
  const name = uniqueName('retract');
  const m = await create(name, specWith(ctx.env.images.url('no-such.img')));
  assert.is(await post(ctx.env.fn.url, resourceEvent('add', m)), 200);
  const failed = await adminKube().get(machinePath(name));
  assert.is(failed.status.errorReason, 'InvalidConfiguration');
  assert.match(failed.status.errorMessage, /404/);
  assert.ok(failed.metadata.finalizers.includes(MACHINE_FINALIZER), 'the finalizer stays');
  assert.is(failed.status.providerStatus.virtualMachine, undefined, 'no VM recorded');
  assert.is(failed.status.providerStatus.emitted?.[FollowUpType.provisioning], undefined, 'no provisioning claim');
  assert.not.ok(await adminKube().get(vmPath(name)), 'no VM');

  const fixed = await adminKube().patch(machinePath(name), 'merge', {
    spec: { providerSpec: { value: specWith(ctx.env.imageUrl) } },
  });
  assert.is(await post(ctx.env.fn.url, resourceEvent('update', fixed)), 200, ctx.env.fn.logs.at(-1));
  assert.ok(await adminKube().get(vmPath(name)), 'VM created once the image is there');
  const after = await adminKube().get(machinePath(name));
  assert.is(after.status.errorReason ?? null, null);
  assert.is(after.status.providerStatus.virtualMachine.name, name);
});

test.run();
