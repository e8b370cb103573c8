/**
 * Event handling: every recorded ApiServerSource shape (adapted to a Machine) is accepted;
 * duplicates, reordering and stale payloads converge to one VM; malformed events get 400.
 */
import * as assert from 'uvu/assert';
import { adminKube } from '../support/admin.js';
import { uniqueName } from '../support/kube.js';
import { machineSuite, exampleProviderSpec, machineObject } from '../support/machine-env.js';
import { eventFixtures, machineEvent, post, resourceEvent } from '../support/apiserver-events.js';
import { FollowUpType } from '../../../events/followup.js';

const { test, ctx } = machineSuite('machine function: events');

function spec() {
  return exampleProviderSpec('kubevirt-machinedeployment.yaml', {
    kubeconfigB64: ctx.env.infraKubeconfigB64,
    kubeconfigRaw: ctx.env.saKubeconfig,
    imageUrl: ctx.env.imageUrl,
  });
}

async function createMachine(name: string, value = spec().value): Promise<any> {
  return adminKube().create(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ctx.ns}/machines`, machineObject(name, ctx.ns, value));
}
const vmPath = (name: string) => `/apis/kubevirt.io/v1/namespaces/${ctx.env.infraNamespace}/virtualmachines/${name}`;
const machinePath = (name: string) => `/apis/cluster.k8s.io/v1alpha1/namespaces/${ctx.ns}/machines/${name}`;

test('every recorded event shape, adapted to a Machine, is accepted (binary and structured)', async () => {
  const fixtures = eventFixtures();
  assert.ok(fixtures.length >= 10, `fixtures found: ${fixtures.length}`);
  for (const fx of fixtures) {
    const name = uniqueName('shape');
    const m = await createMachine(name);
    const status = await post(ctx.env.fn.url, machineEvent(fx, m));
    assert.is(status, 200, `${fx.file} ${fx.structured ? 'structured' : 'binary'}: ${ctx.env.fn.logs.at(-1)}`);
    if (fx.operation !== 'delete') {
      assert.ok(await adminKube().get(vmPath(name)), `${fx.file}: VM created`);
    }
  }
});

test('the same add three times, an update before the add and a stale payload → one VM, same final state', async () => {
  const name = uniqueName('idem');
  const m = await createMachine(name);
  // update first (reordered delivery)
  assert.is(await post(ctx.env.fn.url, resourceEvent('update', m)), 200);
  const vm1 = await adminKube().get(vmPath(name));
  const machine1 = await adminKube().get(machinePath(name));
  for (let i = 0; i < 3; i++) assert.is(await post(ctx.env.fn.url, resourceEvent('add', m)), 200);
  // a stale payload: the original object, long since changed by our finalizer and status
  assert.is(await post(ctx.env.fn.url, resourceEvent('update', { ...m, metadata: { ...m.metadata, resourceVersion: '1' } })), 200);
  const vm2 = await adminKube().get(vmPath(name));
  const machine2 = await adminKube().get(machinePath(name));
  assert.is(vm2.metadata.uid, vm1.metadata.uid, 'same VM');
  assert.is(vm2.metadata.resourceVersion, vm1.metadata.resourceVersion, 'VM not rewritten');
  assert.is(machine2.metadata.resourceVersion, machine1.metadata.resourceVersion, 'Machine not rewritten');
  const vms = await adminKube().request('GET', `/apis/kubevirt.io/v1/namespaces/${ctx.env.infraNamespace}/virtualmachines`, {
    query: { labelSelector: `kubevirt-machine-functions.io/machine-uid=${m.metadata.uid}` },
  });
  assert.is(vms.items.length, 1);
  assert.is(
    ctx.env.sink.events.filter((e) => e.type === FollowUpType.provisioning && e.subject === `${ctx.ns}/${name}`).length,
    1,
    'one provisioning follow-up',
  );
});

test('malformed events get 400 and change nothing', async () => {
  const name = uniqueName('bad');
  const m = await createMachine(name);
  const good = resourceEvent('add', m);
  const cases: [string, { headers: Record<string, string>; body: string }][] = [
    ['not JSON', { headers: good.headers, body: '{nope' }],
    ['no ce-id', { headers: Object.fromEntries(Object.entries(good.headers).filter(([k]) => k !== 'ce-id')), body: good.body }],
    ['wrong type', { headers: { ...good.headers, 'ce-type': 'com.example.other' }, body: good.body }],
    ['not a Kubernetes object', { headers: good.headers, body: JSON.stringify({ hello: 'world' }) }],
    ['wrong kind', { headers: good.headers, body: JSON.stringify({ ...m, kind: 'Widget', apiVersion: 'example.com/v1' }) }],
    ['empty body', { headers: good.headers, body: '' }],
  ];
  for (const [what, ev] of cases) assert.is(await post(ctx.env.fn.url, ev), 400, what);
  const res = await fetch(ctx.env.fn.url);
  assert.is(res.status, 400, 'GET');
  assert.not.ok(await adminKube().get(vmPath(name)), 'no VM');
  const after = await adminKube().get(machinePath(name));
  assert.is(after.metadata.resourceVersion, m.metadata.resourceVersion, 'Machine untouched');
});

test('an event for a Machine that does not exist is acknowledged', async () => {
  const ghost = machineObject(uniqueName('ghost'), ctx.ns, spec().value);
  ghost.metadata.uid = '00000000-0000-0000-0000-000000000000';
  ghost.metadata.resourceVersion = '1';
  assert.is(await post(ctx.env.fn.url, resourceEvent('add', ghost)), 200);
  assert.not.ok(await adminKube().get(vmPath(ghost.metadata.name)));
});

test.run();
