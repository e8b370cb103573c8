/**
 * Permanent errors, name collisions, deletion with the finalizer, and an unavailable sink.
 */
import * as assert from 'uvu/assert';
import { adminKube } from '../support/admin.js';
import { eventually, uniqueName } from '../support/kube.js';
import { machineSuite, exampleProviderSpec, machineObject } from '../support/machine-env.js';
import { post, resourceEvent } from '../support/apiserver-events.js';
import { FollowUpType } from '../../../events/followup.js';
import { MACHINE_FINALIZER } from '../../../shared/constants.js';
import { RESEND_AFTER_MS } from '../../../shared/machine/emissions.js';

const { test, ctx } = machineSuite('machine function: lifecycle');

const kube = () => adminKube();
const spec = () =>
  exampleProviderSpec('kubevirt-machinedeployment.yaml', {
    kubeconfigB64: ctx.env.infraKubeconfigB64,
    kubeconfigRaw: ctx.env.saKubeconfig,
    imageUrl: ctx.env.imageUrl,
  }).value;
const machinePath = (name: string) => `/apis/cluster.k8s.io/v1alpha1/namespaces/${ctx.ns}/machines/${name}`;
const infraPath = (plural: string, name: string, group = 'kubevirt.io/v1') =>
  group === 'v1'
    ? `/api/v1/namespaces/${ctx.env.infraNamespace}/${plural}/${name}`
    : `/apis/${group}/namespaces/${ctx.env.infraNamespace}/${plural}/${name}`;
const createMachine = (name: string, value: unknown = spec()) =>
  kube().create(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ctx.ns}/machines`, machineObject(name, ctx.ns, value));

async function nothingOfOursAnywhere(uid: string): Promise<void> {
  for (const p of ['/apis/kubevirt.io/v1/virtualmachines', '/apis/cdi.kubevirt.io/v1beta1/datavolumes', '/api/v1/secrets']) {
    const res = await kube().request('GET', p, { query: { labelSelector: `kubevirt-machine-functions.io/machine-uid=${uid}` } });
    assert.is(res.items.length, 0, `${p} has objects of machine ${uid}`);
  }
}

test('invalid spec → InvalidConfiguration status naming field and value, Warning Event, machine.failed; nothing created', async () => {
  const name = uniqueName('invalid');
  const value = spec();
  value.cloudProviderSpec.virtualMachine.template.primaryDisk.size = 'ten-gigs';
  value.operatingSystem = 'windows';
  const m = await createMachine(name, value);
  assert.is(await post(ctx.env.fn.url, resourceEvent('add', m)), 200, 'permanent error is acknowledged');
  const after = await kube().get(machinePath(name));
  assert.is(after.status.errorReason, 'InvalidConfiguration');
  assert.match(after.status.errorMessage, /primaryDisk\.size/);
  assert.match(after.status.errorMessage, /ten-gigs/);
  assert.match(after.status.errorMessage, /windows/);
  assert.not.ok((after.metadata.finalizers ?? []).includes(MACHINE_FINALIZER), 'no finalizer for a Machine we will not provision');
  await eventually(
    'Warning Event',
    async () => {
      const events = await kube().request('GET', `/api/v1/namespaces/${ctx.ns}/events`, {
        query: { fieldSelector: `involvedObject.uid=${m.metadata.uid}` },
      });
      return events.items.some((e: any) => e.type === 'Warning' && e.reason === 'InvalidConfiguration');
    },
    { timeoutMs: 5000 },
  );
  const failed = await ctx.env.sink.waitFor((e) => e.type === FollowUpType.failed && e.subject === `${ctx.ns}/${name}`);
  assert.is((failed.data as any).reason, 'InvalidConfiguration');
  await nothingOfOursAnywhere(m.metadata.uid);
  assert.not.ok(await kube().get(infraPath('virtualmachines', name)), 'no VM of that name');
  // redelivery: acknowledged again, no second follow-up
  assert.is(await post(ctx.env.fn.url, resourceEvent('update', after)), 200);
  assert.is(ctx.env.sink.events.filter((e) => e.type === FollowUpType.failed && e.subject === `${ctx.ns}/${name}`).length, 1);
});

test('a foreign VM of the same name → NameCollision; it is never modified, and deleting the Machine leaves it', async () => {
  const name = uniqueName('collide');
  const foreign = await kube().create(`/apis/kubevirt.io/v1/namespaces/${ctx.env.infraNamespace}/virtualmachines`, {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name, labels: { owner: 'someone-else' } },
    spec: { runStrategy: 'Halted', template: { spec: { domain: { devices: {} } } } },
  });
  const m = await createMachine(name);
  assert.is(await post(ctx.env.fn.url, resourceEvent('add', m)), 200);
  const after = await kube().get(machinePath(name));
  assert.is(after.status.errorReason, 'NameCollision');
  assert.match(after.status.errorMessage, new RegExp(`VirtualMachine ${ctx.env.infraNamespace}/${name}`));
  assert.match(after.status.errorMessage, /one infra namespace per user cluster/);
  let vm = await kube().get(infraPath('virtualmachines', name));
  assert.is(vm.metadata.resourceVersion, foreign.metadata.resourceVersion, 'foreign VM untouched');
  assert.not.ok(await kube().get(infraPath('secrets', `userdata-${name}`, 'v1')), 'no userdata Secret created');

  await kube().delete(machinePath(name));
  const deleting = await kube().get(machinePath(name));
  if (deleting) assert.is(await post(ctx.env.fn.url, resourceEvent('update', deleting)), 200);
  assert.is(await post(ctx.env.fn.url, resourceEvent('delete', after)), 200);
  vm = await kube().get(infraPath('virtualmachines', name));
  assert.ok(vm, 'foreign VM still exists');
  assert.is(vm.metadata.resourceVersion, foreign.metadata.resourceVersion, 'foreign VM still untouched');
  assert.not.ok(await kube().get(machinePath(name)), 'Machine is gone');
});

test('a foreign DataVolume of the template name → NameCollision before anything is created', async () => {
  const name = uniqueName('dvcollide');
  await kube().create(`/apis/cdi.kubevirt.io/v1beta1/namespaces/${ctx.env.infraNamespace}/datavolumes`, {
    apiVersion: 'cdi.kubevirt.io/v1beta1',
    kind: 'DataVolume',
    metadata: { name },
    spec: { source: { blank: {} }, storage: { resources: { requests: { storage: '1Gi' } } } },
  });
  const m = await createMachine(name);
  assert.is(await post(ctx.env.fn.url, resourceEvent('add', m)), 200);
  const after = await kube().get(machinePath(name));
  assert.is(after.status.errorReason, 'NameCollision');
  assert.match(after.status.errorMessage, /DataVolume/);
  assert.not.ok(await kube().get(infraPath('virtualmachines', name)), 'no VM created');
});

test('delete: the finalizer is held while the VM exists, removed after; nothing of ours is left; machine.deleted', async () => {
  const name = uniqueName('delete');
  const m = await createMachine(name);
  assert.is(await post(ctx.env.fn.url, resourceEvent('add', m)), 200);
  // Something (KubeVirt, in real life) keeps the VM around for a while.
  await kube().patch(infraPath('virtualmachines', name), 'merge', { metadata: { finalizers: ['test.kubevirt.io/hold'] } });
  await kube().delete(machinePath(name));
  let current = await kube().get(machinePath(name));
  assert.ok(current.metadata.deletionTimestamp, 'deletion started');
  assert.is(await post(ctx.env.fn.url, resourceEvent('update', current)), 503, 'waits (Knative redelivers) while the VM exists');
  current = await kube().get(machinePath(name));
  assert.ok(current, 'Machine still there');
  assert.ok(current.metadata.finalizers.includes(MACHINE_FINALIZER), 'finalizer held');
  assert.is(current.status.providerStatus.phase, 'Deleting');
  const vm = await kube().get(infraPath('virtualmachines', name));
  assert.ok(vm?.metadata.deletionTimestamp, 'VM deletion requested');
  // release the VM; the redelivered event completes the deletion
  await kube().patch(infraPath('virtualmachines', name), 'json', [{ op: 'remove', path: '/metadata/finalizers' }]);
  assert.is(await post(ctx.env.fn.url, resourceEvent('update', current)), 200);
  assert.not.ok(await kube().get(machinePath(name)), 'Machine gone once the finalizer is released');
  await nothingOfOursAnywhere(m.metadata.uid);
  const deleted = await ctx.env.sink.waitFor((e) => e.type === FollowUpType.deleted && e.subject === `${ctx.ns}/${name}`);
  assert.is(deleted.machineuid, m.metadata.uid);
  // the source's final delete event finds nothing left to do
  assert.is(await post(ctx.env.fn.url, resourceEvent('delete', current)), 200);
});

test('a delete event for a Machine already gone removes anything of ours left behind', async () => {
  const name = uniqueName('orphan');
  const m = await createMachine(name);
  assert.is(await post(ctx.env.fn.url, resourceEvent('add', m)), 200);
  // The Machine vanishes without our reconcile (finalizer removed by hand).
  await kube().patch(machinePath(name), 'merge', { metadata: { finalizers: null } });
  await kube().delete(machinePath(name));
  assert.not.ok(await kube().get(machinePath(name)));
  assert.ok(await kube().get(infraPath('virtualmachines', name)), 'VM left behind');
  assert.is(await post(ctx.env.fn.url, resourceEvent('delete', m)), 200);
  await nothingOfOursAnywhere(m.metadata.uid);
});

test('sink down → 5xx; other deliveries within the hold are acknowledged and write nothing; after it the retried event delivers the follow-up once', async () => {
  const name = uniqueName('sink');
  const m = await createMachine(name);
  ctx.env.sink.failWith = 503;
  assert.is(await post(ctx.env.fn.url, resourceEvent('add', m)), 503, 'sink failure is transient');
  const failedAt = Date.now();
  // Another delivery while the failed send is held: acknowledged (only the failed one is
  // retried), after recording the state the first reconcile left to it.
  assert.is(await post(ctx.env.fn.url, resourceEvent('add', m)), 200, 'held, not retried');
  const read = async () => (await kube().get<any>(machinePath(name))).metadata.resourceVersion;
  const rv = await read();
  ctx.env.sink.failWith = undefined;
  // The failed claim is held for RESEND_AFTER_MS: deliveries meanwhile are acknowledged and
  // leave the Machine alone (each write would be one more Machine event, each 503 a burst of
  // Knative retries: a storm while the sink is down).
  assert.is(await post(ctx.env.fn.url, resourceEvent('add', m)), 200, 'within the hold of the failed send');
  assert.is(await read(), rv, 'no Machine write within the lease');
  assert.ok(Date.now() - failedAt < RESEND_AFTER_MS, 'checked within the lease');
  await new Promise((r) => setTimeout(r, Math.max(0, failedAt + RESEND_AFTER_MS + 200 - Date.now())));
  assert.is(await post(ctx.env.fn.url, resourceEvent('add', m)), 200, 'retry after the lease succeeds');
  assert.not.ok(
    (await kube().get<any>(machinePath(name))).status.providerStatus.emitted[FollowUpType.provisioning].failedAt,
    'recorded as sent (no failure left on the claim)',
  );
  assert.is(await post(ctx.env.fn.url, resourceEvent('add', m)), 200, 'a duplicate after success');
  const got = ctx.env.sink.events.filter((e) => e.type === FollowUpType.provisioning && e.subject === `${ctx.ns}/${name}`);
  assert.is(got.length, 1, 'exactly one provisioning follow-up');
  const vms = await kube().request('GET', `/apis/kubevirt.io/v1/namespaces/${ctx.env.infraNamespace}/virtualmachines`, {
    query: { labelSelector: `kubevirt-machine-functions.io/machine-uid=${m.metadata.uid}` },
  });
  assert.is(vms.items.length, 1);
});

test.run();
