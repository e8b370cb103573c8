/**
 * What the node function must leave alone, and how it answers: Machines that are not ours
 * (no finalizer of ours: another provider's, or not yet taken by the machine function) and the
 * Nodes matching them are never written; a Node of no Machine is acknowledged (200) and not
 * written; malformed events are refused (400). A Node that registers before its Machine is
 * ready matches nothing then and is linked by the `machine.ready` follow-up.
 */
import * as assert from 'uvu/assert';
import { FollowUpType } from '../../../events/followup.js';
import { apiServerEvent, post } from '../support/apiserver-events.js';
import { uniqueName } from '../support/kube.js';
import { adminKube } from '../support/admin.js';
import { ApiError } from '../../../shared/kube/rest.js';
import { patchNode } from '../../../shared/node/api.js';
import { createMachine, createNode, getMachine, getNode, machineReadyEvent, MACHINES, nodeEvent, nodeSuite, readyOf } from './support.js';

const { test, ctx } = nodeSuite('node function: scope, order and malformed events');

test('foreign Machines (aws, with or without our finalizer; kubevirt without it) and their Nodes are never written; a Node of no Machine neither', async () => {
  const cases = [
    { what: 'aws', cloudProvider: 'aws', finalizer: false },
    { what: 'kubevirt, not taken by the machine function', finalizer: false },
    { what: 'aws, holding our finalizer all the same', cloudProvider: 'aws' },
  ];
  for (const c of cases) {
    const vm = uniqueName('vm');
    const m = await createMachine(ctx.ns, { providerID: `kubevirt://${vm}`, addresses: ['10.98.0.1'], ...c });
    const node = await createNode(ctx, { name: vm, providerID: `kubevirt://${vm}`, address: '10.98.0.1' });
    for (const op of ['add', 'update', 'delete'] as const) assert.is(await post(ctx.fn.url, nodeEvent(op, node)), 200, `${c.what} ${op}`);
    assert.is(await post(ctx.fn.url, machineReadyEvent(m)), 200, `${c.what}: machine.ready`);
    assert.is((await getMachine(m)).metadata.resourceVersion, m.metadata.resourceVersion, `${c.what}: Machine never written`);
    assert.is((await getNode(vm)).metadata.resourceVersion, node.metadata.resourceVersion, `${c.what}: Node never written`);
  }
  const stray = await createNode(ctx, { providerID: 'kubevirt://nobody', address: '10.98.9.9' });
  assert.is(await post(ctx.fn.url, nodeEvent('add', stray)), 200);
  assert.is((await getNode(stray.metadata.name)).metadata.resourceVersion, stray.metadata.resourceVersion);
  assert.is(ctx.sink.events.length, 0, 'no follow-up for any of them');
});

test('a Node registered before its Machine was ready: nothing then; machine.ready links it', async () => {
  const vm = uniqueName('vm');
  const m = await createMachine(ctx.ns);
  const node = await createNode(ctx, { name: vm, providerID: `kubevirt://${vm}`, address: '10.97.0.3' });
  assert.is(await post(ctx.fn.url, nodeEvent('add', node)), 200);
  assert.is((await getMachine(m)).metadata.resourceVersion, m.metadata.resourceVersion, 'no Machine matches yet');
  // What the vmi function then writes, and its follow-up.
  const ready = await adminKube().patch(`${MACHINES(ctx.ns)}/${m.metadata.name}`, 'merge', {
    spec: { providerID: `kubevirt://${vm}` },
    status: { addresses: [{ type: 'InternalIP', address: '10.97.0.3' }] },
  });
  assert.is(await post(ctx.fn.url, machineReadyEvent(ready)), 200);
  const after = await getMachine(m);
  assert.is(after.status.nodeRef?.name, vm);
  assert.is(readyOf(after).status, 'True');
  assert.is((await getNode(vm)).metadata.labels['machine-controller/owned-by'], m.metadata.uid);
  assert.is(ctx.sink.ofType(FollowUpType.nodeJoined).filter((e) => e.data.machine.uid === m.metadata.uid).length, 1);
  // The same follow-up again (redelivered): nothing more.
  assert.is(await post(ctx.fn.url, machineReadyEvent(ready)), 200);
  assert.is((await getMachine(m)).metadata.resourceVersion, after.metadata.resourceVersion);
});

test('a Node event that never came: resync`s Reference-mode Machine re-announcement links the Node', async () => {
  const vm = uniqueName('vm');
  const m = await createMachine(ctx.ns, { providerID: `kubevirt://${vm}` });
  await createNode(ctx, { name: `${vm}-renamed`, providerID: `kubevirt://${vm}` }); // no event posted; not where its name suggests
  const ref = apiServerEvent({ mode: 'Reference', operation: 'update', structured: false }, m);
  assert.is(await post(ctx.fn.url, ref), 200);
  const after = await getMachine(m);
  assert.is(after.status.nodeRef?.name, `${vm}-renamed`, 'found by the Node list');
  assert.is(readyOf(after).status, 'True');
  // A Machine with nothing a Node could match yet: acknowledged, nothing read beyond it, nothing written.
  const bare = await createMachine(ctx.ns);
  assert.is(await post(ctx.fn.url, apiServerEvent({ mode: 'Reference', operation: 'update', structured: false }, bare)), 200);
  assert.is((await getMachine(bare)).metadata.resourceVersion, bare.metadata.resourceVersion);
});

test('malformed: a Node event with a namespace, a machine.ready whose data breaks its schema, another kind → 400', async () => {
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', namespace: 'ns' } };
  assert.is(await post(ctx.fn.url, nodeEvent('add', node)), 400);
  const bad = machineReadyEvent({ metadata: { namespace: ctx.ns, name: 'm', uid: 'u' }, spec: {} });
  assert.is(await post(ctx.fn.url, { ...bad, body: JSON.stringify({ machine: { name: 'm' } }) }), 400);
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: ctx.ns } };
  assert.is(await post(ctx.fn.url, nodeEvent('add', pod)), 400);
});

test('a Node write never lands on another Node of the same name (uid precondition), labels or taints', async () => {
  const node = await createNode(ctx, {});
  const stale = { ...node, metadata: { ...node.metadata, uid: '00000000-0000-0000-0000-000000000000' } };
  for (const w of [
    { metadata: { labels: { a: 'b' } }, specCopied: false },
    { taints: [{ key: 'k', effect: 'NoSchedule' }], specCopied: true },
  ]) {
    const e = await patchNode(adminKube(), stale, w).then(
      () => undefined,
      (err: unknown) => err,
    );
    assert.instance(e, ApiError);
    assert.ok([409, 422].includes((e as ApiError).status), String(e));
  }
  assert.is((await getNode(node.metadata.name)).metadata.resourceVersion, node.metadata.resourceVersion);
});

test.run();
