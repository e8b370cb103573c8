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
import { LABEL_MACHINE_NAME } from '../../../shared/constants.js';
import { freePort } from '../support/function-server.js';

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
  // The next reconcile records what the first one left to it (the VirtualMachineCreated
  // condition, see provision.ts); from then on the Machine is final.
  assert.is(await post(ctx.env.fn.url, resourceEvent('add', m)), 200);
  const machine1 = await adminKube().get(machinePath(name));
  for (let i = 0; i < 2; i++) assert.is(await post(ctx.env.fn.url, resourceEvent('add', m)), 200);
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
    [
      'no ce-specversion',
      { headers: Object.fromEntries(Object.entries(good.headers).filter(([k]) => k !== 'ce-specversion')), body: good.body },
    ],
    [
      'structured, "id" only inside data',
      {
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify({ specversion: '1.0', source: 's', type: good.headers['ce-type'], data: { ...m, id: 'inner' } }),
      },
    ],
  ];
  for (const [what, ev] of cases) assert.is(await post(ctx.env.fn.url, ev), 400, what);
  // Under functions-framework's CLI its body parser reads the body first; the handler still refuses it.
  const padded = { ...m, metadata: { ...m.metadata, annotations: { pad: 'x'.repeat(4 * 1024 * 1024) } } };
  assert.is(await post(ctx.env.fn.url, { headers: good.headers, body: JSON.stringify(padded) }), 413, 'over MAX_EVENT_BYTES');
  const res = await fetch(ctx.env.fn.url);
  assert.is(res.status, 400, 'GET');
  assert.not.ok(await adminKube().get(vmPath(name)), 'no VM');
  const after = await adminKube().get(machinePath(name));
  assert.is(after.metadata.resourceVersion, m.metadata.resourceVersion, 'Machine untouched');
});

/** Whatever the machine function could have written for Machine `name`: infra objects by label, Events, follow-ups. */
async function writtenFor(name: string): Promise<string[]> {
  const kube = adminKube();
  const found: string[] = [];
  const selector = { labelSelector: `${LABEL_MACHINE_NAME}=${name}` };
  for (const [kind, path] of [
    ['VirtualMachine', `/apis/kubevirt.io/v1/namespaces/${ctx.env.infraNamespace}/virtualmachines`],
    ['DataVolume', `/apis/cdi.kubevirt.io/v1beta1/namespaces/${ctx.env.infraNamespace}/datavolumes`],
    ['Secret', `/api/v1/namespaces/${ctx.env.infraNamespace}/secrets`],
  ]) {
    const list = await kube.request<{ items: { metadata: { name: string } }[] }>('GET', path, { query: selector });
    found.push(...list.items.map((o) => `${kind} ${o.metadata.name}`));
  }
  if (await kube.get(vmPath(name))) found.push(`VirtualMachine ${name}`);
  if (await kube.get(machinePath(name))) found.push(`Machine ${name}`);
  const events = await kube.request<{ items: { reason: string; involvedObject: { name: string } }[] }>(
    'GET',
    `/api/v1/namespaces/${ctx.ns}/events`,
  );
  found.push(...events.items.filter((e) => e.involvedObject.name === name).map((e) => `Event ${e.reason}`));
  found.push(...ctx.env.sink.events.filter((e) => e.subject === `${ctx.ns}/${name}`).map((e) => `follow-up ${e.type}`));
  return found;
}

/** Posts a Resource-mode event for a Machine that does not exist, its payload's providerSpec `value`; `what: status[, wrote …]`. */
async function ghostEvent(what: string, op: 'add' | 'update' | 'delete', value: unknown): Promise<string> {
  const ghost = machineObject(uniqueName('ghost'), ctx.ns, value);
  ghost.metadata.uid = '00000000-0000-0000-0000-000000000000';
  ghost.metadata.resourceVersion = '1';
  const status = await post(ctx.env.fn.url, resourceEvent(op, ghost));
  await new Promise((r) => setTimeout(r, 300)); // Events are recorded asynchronously
  const written = await writtenFor(ghost.metadata.name);
  return `${what}: ${status}${written.length ? `, wrote ${written.join(', ')}` : ''}`;
}

test('a Resource-mode event for a Machine that no longer exists (add, update, delete): 200 and nothing written', async () => {
  const results: string[] = [];
  for (const op of ['add', 'update', 'delete'] as const) results.push(await ghostEvent(op, op, spec().value));
  console.log(`    [machine, nonexistent Machine] ${results.join('; ')}`);
  assert.equal(results, ['add: 200', 'update: 200', 'delete: 200'], ctx.env.fn.logs.slice(-6).join('\n'));
});

// The payload is a key only: the function reads the Machine first and finds it gone.
test('a Resource-mode event for a Machine that no longer exists, whose payload would fail: 200 and nothing written', async () => {
  const closedPort = await freePort();
  const results = [
    await ghostEvent('providerSpec invalid', 'add', { cloudProvider: 'kubevirt', cloudProviderSpec: {} }),
    await ghostEvent('image not found (404)', 'add', withImage(spec().value, ctx.env.images.url('missing.img'))),
    await ghostEvent('image server unreachable', 'add', withImage(spec().value, `http://127.0.0.1:${closedPort}/ubuntu.img`)),
  ];
  console.log(`    [machine, nonexistent Machine, failing payload] ${results.join('; ')}`);
  assert.equal(
    results.filter((r) => !/: 200$/.test(r)),
    [],
    ctx.env.fn.logs.slice(-6).join('\n'),
  );
});

function withImage(value: any, url: string): any {
  const v = structuredClone(value);
  const cps = v.cloudProviderSpec;
  if (cps.sourceURL) cps.sourceURL = url;
  else cps.virtualMachine.template.primaryDisk.osImage = url;
  return v;
}

test.run();
