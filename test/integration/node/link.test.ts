/**
 * The node function on the real API server (issue 16 item 3, machine-controller's node
 * handling): a Node found by providerID (any case) or by address is labelled owned-by, its
 * Machine gets nodeRef, kubelet version and the mirrored Ready condition; a Ready Node gets the
 * Machine's spec labels, annotations and taints (others' kept) with an Event on the Machine;
 * joined is announced once, and a replay writes nothing.
 */
import * as assert from 'uvu/assert';
import { FollowUpType } from '../../../events/followup.js';
import { adminKube } from '../support/admin.js';
import { post } from '../support/apiserver-events.js';
import { eventually, uniqueName } from '../support/kube.js';
import { createMachine, createNode, getMachine, getNode, nodeEvent, nodeSuite, readyOf } from './support.js';

const { test, ctx } = nodeSuite('node function: linking Nodes to Machines');

test('by providerID in another case: Node labelled owned-by and given the spec metadata; Machine nodeRef, kubelet, Ready; one joined', async () => {
  const vm = uniqueName('vm');
  const m = await createMachine(ctx.ns, {
    providerID: `kubevirt://${vm}`,
    spec: {
      metadata: { labels: { 'node-role.kubernetes.io/worker': '', team: 'a' }, annotations: { owner: 'team-a' } },
      taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }],
    },
  });
  const node = await createNode(ctx, {
    name: vm,
    providerID: `KubeVirt://${vm.toUpperCase()}`,
    labels: { team: 'b', 'kubernetes.io/os': 'linux' },
    taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }],
  });
  assert.is(await post(ctx.fn.url, nodeEvent('add', node)), 200);

  const n = await getNode(vm);
  assert.is(n.metadata.labels['machine-controller/owned-by'], m.metadata.uid);
  assert.is(n.metadata.labels.team, 'a', 'a key of the Machine`s spec is ours to set');
  assert.is(n.metadata.labels['kubernetes.io/os'], 'linux', 'other labels kept');
  assert.is(n.metadata.labels['node-role.kubernetes.io/worker'], '');
  assert.is(n.metadata.annotations['cluster.k8s.io/machine'], `${ctx.ns}/${m.metadata.name}`);
  assert.is(n.metadata.annotations.owner, 'team-a');
  assert.equal(
    n.spec.taints.map((t: any) => `${t.key}=${t.value ?? ''}:${t.effect}`),
    ['node.kubernetes.io/not-ready=:NoSchedule', 'dedicated=db:NoSchedule'],
  );

  const after = await getMachine(m);
  assert.equal(after.status.nodeRef, { apiVersion: 'v1', kind: 'Node', name: vm, uid: node.metadata.uid });
  assert.is(after.status.versions.kubelet, 'v1.36.3');
  const ready = readyOf(after);
  const nodeReady = node.status.conditions.find((c: any) => c.type === 'Ready');
  assert.equal(
    [ready.status, ready.reason, ready.message, ready.lastTransitionTime],
    ['True', 'KubeletReady', 'kubelet is posting ready status', nodeReady.lastTransitionTime],
  );
  const joined = ctx.sink.ofType(FollowUpType.nodeJoined).filter((e) => e.data.machine.uid === m.metadata.uid);
  assert.is(joined.length, 1);
  assert.equal(joined[0]!.data.node, { name: vm, uid: node.metadata.uid });
  await eventually('Event LabelsAnnotationsTaintsUpdated on the Machine', async () => {
    const evs = await adminKube().request('GET', `/api/v1/namespaces/${ctx.ns}/events`, {
      query: { fieldSelector: `involvedObject.name=${m.metadata.name}` },
    });
    return evs.items.some((e: any) => e.reason === 'LabelsAnnotationsTaintsUpdated' && e.type === 'Normal');
  });

  // Replays (the same event again, an update, a Reference-mode re-announcement): nothing written.
  for (const op of ['add', 'update'] as const) assert.is(await post(ctx.fn.url, nodeEvent(op, node)), 200);
  assert.is((await getMachine(m)).metadata.resourceVersion, after.metadata.resourceVersion, 'Machine not written again');
  assert.is((await getNode(vm)).metadata.resourceVersion, n.metadata.resourceVersion, 'Node not written again');
  assert.is(ctx.sink.ofType(FollowUpType.nodeJoined).filter((e) => e.data.machine.uid === m.metadata.uid).length, 1);
});

test('by address: a Node named otherwise, without providerID, shares an address with the Machine', async () => {
  const m = await createMachine(ctx.ns, { addresses: ['10.99.0.7'] });
  const node = await createNode(ctx, { address: '10.99.0.7', ready: 'False' });
  assert.is(await post(ctx.fn.url, nodeEvent('add', node)), 200);
  const after = await getMachine(m);
  assert.is(after.status.nodeRef.name, node.metadata.name);
  assert.is(readyOf(after).status, 'False');
  const n = await getNode(node.metadata.name);
  assert.is(n.metadata.labels['machine-controller/owned-by'], m.metadata.uid);
  assert.not.ok(n.metadata.annotations?.['cluster.k8s.io/machine'], 'not Ready: no spec metadata yet');
  assert.is(
    ctx.sink.ofType(FollowUpType.nodeJoined).filter((e) => e.data.machine.uid === m.metadata.uid).length,
    0,
    'never Ready: no joined',
  );
});

test.run();
