/**
 * Issue 16 item 3, machine-controller's joinClusterTimeout end to end (real control plane,
 * simulator, every function under its knative/ ServiceAccount): with JOIN_CLUSTER_TIMEOUT set, a
 * resync tick deletes a MachineSet's Machine whose VM exists but whose Node never joined, with
 * JoinClusterTimeoutError, and the MachineSet replaces it. Its own stack: the timeout acts on
 * every Machine a tick lists, so it must not meet the other e2e files' Machines on their stacks.
 *
 * The node function is left out of this stack (the simulated kubelets would otherwise link every
 * Machine): the "joined" Machine gets what that function writes (`status.nodeRef`,
 * `status.conditions` Ready) by hand.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { startStack, type Stack } from '../../../dev/stack/index.js';
import type { KubeClient } from '../../../shared/kube/rest.js';
import { eventually, freshNamespace } from '../support/kube.js';
import { describe, eventsAbout, isDeleting, machineSet, machinesOf, ownerSet, paths, sleep, until, type Obj } from './md-support.js';
import { resyncTick } from './stack-support.js';

const test = suite('end to end: join cluster timeout');
const JOIN_TIMEOUT_S = 3;
let stack: Stack;
let kube: KubeClient;
const FAST = { timeoutMs: 90_000, intervalMs: 100 };

test.before(async () => {
  stack = await startStack({
    kubeconfig: readFileSync(process.env.KUBECONFIG!, 'utf8'),
    simulatorTimings: { dvStepMs: 20, importChunkMs: 20, vmiStepMs: 20, restartBackoffMs: 40 },
    backoffScale: 0.05,
    // Resync (and so the join timeout) only when the test ticks it.
    pingIntervalMs: 3_600_000,
    env: { JOIN_CLUSTER_TIMEOUT: `${JOIN_TIMEOUT_S}s` },
    // No node function: the simulated kubelets register Nodes, and none may be linked except
    // the one this test links by hand.
    functions: ['machine', 'datavolume', 'vmi', 'machineset', 'machinedeployment', 'resync'],
  });
  kube = stack.admin;
});
test.after(async () => {
  await stack?.stop();
});

const conditionOf = (m: Obj, type: string): Obj | undefined => m.status?.providerStatus?.conditions?.find((c: Obj) => c.type === type);

test(`join timeout: a MachineSet Machine whose Node never joins is replaced after JOIN_CLUSTER_TIMEOUT (${JOIN_TIMEOUT_S}s); a joined one and a standalone one stay`, async () => {
  const ns = await freshNamespace('ready-join');
  await kube.create(paths.mss(ns), machineSet(stack.imageUrl, ns, 'pool', 2));
  let machines: Obj[] = [];
  await eventually(
    '2 Machines with their VMs',
    async () => {
      machines = await machinesOf(kube, ns);
      return machines.length === 2 && machines.every((m) => conditionOf(m, 'VirtualMachineCreated')?.status === 'True');
    },
    FAST,
  );
  const [joined, never] = machines;
  await kube.patch(paths.machine(ns, joined.metadata.name), 'merge', {
    status: {
      nodeRef: { apiVersion: 'v1', kind: 'Node', name: joined.metadata.name, uid: 'node-uid' },
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString() }],
    },
  });
  const standalone = await kube.create<Obj>(paths.machines(ns), {
    apiVersion: 'cluster.k8s.io/v1alpha1',
    kind: 'Machine',
    metadata: { name: 'standalone', namespace: ns },
    spec: structuredClone(machineSet(stack.imageUrl, ns, 'x', 1).spec.template.spec),
  });
  await eventually(
    'the standalone Machine has its VM',
    async () => {
      const s = await kube.get<Obj>(paths.machine(ns, 'standalone'));
      return conditionOf(s, 'VirtualMachineCreated')?.status === 'True';
    },
    FAST,
  );

  // A tick before the timeout passed does nothing.
  const created = Date.parse(conditionOf(never, 'VirtualMachineCreated').lastTransitionTime);
  if (Date.now() - created < (JOIN_TIMEOUT_S - 1) * 1000) {
    assert.is(await resyncTick(stack.functions.resync.url), 200);
    assert.ok(await kube.get(paths.machine(ns, never.metadata.name)), 'not deleted before the timeout');
  }
  await sleep(Math.max(0, created + JOIN_TIMEOUT_S * 1000 + 1_100 - Date.now()));
  assert.is(await resyncTick(stack.functions.resync.url), 200);

  await until(
    'the unjoined Machine is replaced',
    async () => {
      const now = await machinesOf(kube, ns);
      const gone = !now.some((m) => m.metadata.uid === never.metadata.uid);
      const replacement = now.find(
        (m) => ownerSet(m) === 'pool' && m.metadata.uid !== never.metadata.uid && m.metadata.uid !== joined.metadata.uid,
      );
      return [gone && !!replacement, describe(now)];
    },
    FAST,
  );
  const now = await machinesOf(kube, ns);
  assert.ok(
    now.some((m) => m.metadata.uid === joined.metadata.uid && !isDeleting(m)),
    'the joined Machine stays',
  );
  assert.ok(
    now.some((m) => m.metadata.uid === standalone.metadata.uid && !isDeleting(m)),
    'a Machine without MachineSet stays',
  );
  const warnings = (await eventsAbout(kube, ns, 'Machine', never.metadata.name)).filter((e) => e.reason === 'JoinClusterTimeoutError');
  assert.is(warnings.length, 1, 'one Warning Event');
  assert.is(warnings[0].type, 'Warning');
  assert.match(warnings[0].message, /did not join the cluster within 3s/);
  await kube.delete(paths.ms(ns, 'pool'));
  await kube.delete(paths.machine(ns, 'standalone'));
});

test.run();
