/**
 * A linked Node that goes NotReady, comes back, or is deleted: the Machine's mirrored Ready
 * condition follows, `machine.node.lost` / `.joined` are announced once per transition (replays
 * add none), and a sink that is down fails the event (503) without losing the transition and
 * without holding back the mirror (rollouts count a linked Machine ready by it).
 */
import * as assert from 'uvu/assert';
import { RESEND_AFTER_MS } from '../../../shared/machine/emissions.js';
import { FollowUpType } from '../../../events/followup.js';
import { adminKube } from '../support/admin.js';
import { post } from '../support/apiserver-events.js';
import { uniqueName } from '../support/kube.js';
import { createMachine, createNode, getMachine, NODE, nodeEvent, nodeSuite, readyOf, setNodeStatus } from './support.js';

const { test, ctx } = nodeSuite('node function: Nodes lost and back');

/** Until a send that failed at `failedAt` may be claimed again (emissions.ts's hold). */
const pastHold = (failedAt: number) => new Promise((r) => setTimeout(r, Math.max(0, failedAt + RESEND_AFTER_MS + 200 - Date.now())));
const of = (type: string, m: any) => ctx.sink.ofType(type).filter((e) => e.data.machine.uid === m.metadata.uid);

test('NotReady → lost (once, even with the sink down first), Ready again → joined again', async () => {
  const vm = uniqueName('vm');
  const m = await createMachine(ctx.ns, { providerID: `kubevirt://${vm}` });
  let node = await createNode(ctx, { name: vm, providerID: `kubevirt://${vm}` });
  assert.is(await post(ctx.fn.url, nodeEvent('add', node)), 200);
  assert.is(of(FollowUpType.nodeJoined, m).length, 1);

  node = await setNodeStatus(vm, { ready: 'False', at: '2030-01-01T00:00:00Z' });
  ctx.sink.failWith = 503;
  try {
    assert.is(await post(ctx.fn.url, nodeEvent('update', node)), 503, 'the follow-up cannot be sent: retry');
  } finally {
    ctx.sink.failWith = undefined;
  }
  const failedAt = Date.now();
  assert.is(readyOf(await getMachine(m)).status, 'False', 'the mirror does not wait for the announcement');
  // A failed send is held for RESEND_AFTER_MS (no write, 503), then claimed again and sent.
  await pastHold(failedAt);
  assert.is(await post(ctx.fn.url, nodeEvent('update', node)), 200);
  assert.is(await post(ctx.fn.url, nodeEvent('update', node)), 200, 'a replay');
  const lost = of(FollowUpType.nodeLost, m);
  assert.is(lost.length, 1);
  assert.equal([lost[0]!.data.reason, lost[0]!.data.node.name], ['NotReady', vm]);
  const mirrored = readyOf(await getMachine(m));
  assert.equal([mirrored.status, mirrored.reason, mirrored.lastTransitionTime], ['False', 'KubeletNotReady', '2030-01-01T00:00:00Z']);

  node = await setNodeStatus(vm, { ready: 'True', at: '2030-01-01T00:05:00Z' });
  assert.is(await post(ctx.fn.url, nodeEvent('update', node)), 200);
  assert.is(of(FollowUpType.nodeJoined, m).length, 2, 'joined again after the loss');
  assert.is(readyOf(await getMachine(m)).status, 'True');
});

test('a Node linked before it was Ready, Ready while the sink is down: the mirror says Ready at once, joined is sent once after the hold', async () => {
  const vm = uniqueName('vm');
  const m = await createMachine(ctx.ns, { providerID: `kubevirt://${vm}` });
  // The kubelet registers its Node before it reports Ready (Unknown until then).
  let node = await createNode(ctx, { name: vm, providerID: `kubevirt://${vm}`, ready: 'Unknown' });
  assert.is(await post(ctx.fn.url, nodeEvent('add', node)), 200);
  const linked = await getMachine(m);
  assert.equal([linked.status.nodeRef.name, readyOf(linked).status], [vm, 'Unknown']);
  assert.is(of(FollowUpType.nodeJoined, m).length, 0);

  node = await setNodeStatus(vm, { ready: 'True', at: '2030-01-02T00:00:00Z' });
  ctx.sink.failWith = 503;
  try {
    assert.is(await post(ctx.fn.url, nodeEvent('update', node)), 503, 'the follow-up cannot be sent: retry');
    const failedAt = Date.now();
    const mirrored = readyOf(await getMachine(m));
    assert.equal([mirrored.status, mirrored.lastTransitionTime], ['True', '2030-01-02T00:00:00Z'], 'Ready mirrored during the outage');
    assert.is(await post(ctx.fn.url, nodeEvent('update', node)), 200, 'within the hold: acknowledged, nothing sent');
    await pastHold(failedAt);
    assert.is(await post(ctx.fn.url, nodeEvent('update', node)), 503, 'after the hold it is sent again, and fails again');
  } finally {
    ctx.sink.failWith = undefined;
  }
  await pastHold(Date.now());
  assert.is(await post(ctx.fn.url, nodeEvent('update', node)), 200);
  assert.is(await post(ctx.fn.url, nodeEvent('update', node)), 200, 'a replay');
  const joined = of(FollowUpType.nodeJoined, m);
  assert.is(joined.length, 1);
  assert.is(joined[0]!.data.node.uid, node.metadata.uid);
});

test('the Node deleted: lost (Deleted) once, Ready=Unknown (NodeDeleted), nodeRef kept', async () => {
  const vm = uniqueName('vm');
  const m = await createMachine(ctx.ns, { providerID: `kubevirt://${vm}` });
  const node = await createNode(ctx, { name: vm, providerID: `kubevirt://${vm}` });
  assert.is(await post(ctx.fn.url, nodeEvent('add', node)), 200);
  await adminKube().delete(NODE(vm));
  for (let i = 0; i < 2; i++) assert.is(await post(ctx.fn.url, nodeEvent('delete', node)), 200);
  const lost = of(FollowUpType.nodeLost, m);
  assert.is(lost.length, 1);
  assert.is(lost[0]!.data.reason, 'Deleted');
  const after = await getMachine(m);
  assert.equal([readyOf(after).status, readyOf(after).reason], ['Unknown', 'NodeDeleted']);
  assert.is(after.status.nodeRef.uid, node.metadata.uid);
  const rv = after.metadata.resourceVersion;
  assert.is(await post(ctx.fn.url, nodeEvent('delete', node)), 200);
  assert.is((await getMachine(m)).metadata.resourceVersion, rv, 'a replayed delete writes nothing');
});

test('the Node deleted while the sink is down: Ready=Unknown (NodeDeleted) at once, lost (Deleted) sent once after the hold', async () => {
  const vm = uniqueName('vm');
  const m = await createMachine(ctx.ns, { providerID: `kubevirt://${vm}` });
  const node = await createNode(ctx, { name: vm, providerID: `kubevirt://${vm}` });
  assert.is(await post(ctx.fn.url, nodeEvent('add', node)), 200);
  await adminKube().delete(NODE(vm));
  ctx.sink.failWith = 503;
  try {
    assert.is(await post(ctx.fn.url, nodeEvent('delete', node)), 503);
  } finally {
    ctx.sink.failWith = undefined;
  }
  const failedAt = Date.now();
  const during = readyOf(await getMachine(m));
  assert.equal([during.status, during.reason], ['Unknown', 'NodeDeleted'], 'mirrored during the outage');
  assert.is(of(FollowUpType.nodeLost, m).length, 0);
  await pastHold(failedAt);
  for (let i = 0; i < 2; i++) assert.is(await post(ctx.fn.url, nodeEvent('delete', node)), 200);
  const lost = of(FollowUpType.nodeLost, m);
  assert.is(lost.length, 1);
  assert.is(lost[0]!.data.reason, 'Deleted');
});

test.run();
