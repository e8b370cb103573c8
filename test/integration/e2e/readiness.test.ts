/**
 * Issue 16, items 2 and 3 end to end (real control plane, simulator, every function under its
 * knative/ ServiceAccount, the bridge routing as the Triggers do): a Machine's readiness and
 * errors are its own state, so a Broker (sink) outage delays follow-up events and nothing else;
 * a MachineSet counts a Node-linked Machine by its Node's readiness; an error is cleared only by
 * the function that owns it. (The join timeout: join-timeout.test.ts, its own stack, because it
 * acts on every Machine a resync tick lists.)
 *
 * The node function runs on this stack too (the simulator's kubelets register a Node per guest),
 * so Machines of a rollout are linked to their Nodes and counted by their mirrors. Where a test
 * needs a Node state of its own it writes what that function writes (`status.nodeRef`,
 * `status.conditions` Ready) by hand; the node function acts only on Node events and
 * `machine.ready`, none of which that test causes after its writes.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { startStack, type Stack } from '../../../dev/stack/index.js';
import { FollowUpType } from '../../../events/followup.js';
import { RESEND_AFTER_MS } from '../../../shared/machine/emissions.js';
import type { KubeClient } from '../../../shared/kube/rest.js';
import { eventually, freshNamespace } from '../support/kube.js';
import { startForwardingSink, type ForwardingSink } from '../support/forwarding-sink.js';
import {
  describe,
  isDeleting,
  machineDeployment,
  machineSet,
  machinesOf,
  paths,
  rolloutState,
  sleep,
  until,
  watchMachines,
  type Obj,
} from './md-support.js';
import { INFRA_NAMESPACE, resyncTick } from './stack-support.js';

const test = suite('end to end: readiness and errors are Machine state');
let stack: Stack;
let kube: KubeClient;
let sink: ForwardingSink;
const FAST = { timeoutMs: 90_000, intervalMs: 100 };

test.before(async () => {
  sink = await startForwardingSink();
  stack = await startStack({
    kubeconfig: readFileSync(process.env.KUBECONFIG!, 'utf8'),
    simulatorTimings: { dvStepMs: 20, importChunkMs: 20, vmiStepMs: 20, restartBackoffMs: 40 },
    backoffScale: 0.05,
    // Resync only when a test ticks it.
    pingIntervalMs: 3_600_000,
    sinkUrl: sink.url,
  });
  sink.target = stack.bridge!.ingressUrl;
  kube = stack.admin;
});
test.after(async () => {
  await stack?.stop();
  await sink?.close();
});

const conditionOf = (m: Obj, type: string): Obj | undefined => m.status?.providerStatus?.conditions?.find((c: Obj) => c.type === type);
/** Ready as the MachineSet counts a Machine without a Node: the vmi function's VMIReady condition. */
const vmiReady = (m: Obj): boolean => conditionOf(m, 'VMIReady')?.status === 'True';
const live = (ms: Obj[]) => ms.filter((m) => !isDeleting(m));
const followUpsFor = (uid: string) => sink.delivered.filter((e) => e.machineuid === uid).map((e) => e.type);

async function quiet(ms = 1_000): Promise<void> {
  await stack.bridge?.idle();
  await sleep(ms);
  await stack.bridge?.idle();
}

async function deploymentSettled(ns: string, name: string, replicas: number): Promise<void> {
  await until(
    `${ns}/${name}: ${replicas} ready and available`,
    async () => {
      const [md, machines] = await Promise.all([kube.get<Obj>(paths.md(ns, name)), machinesOf(kube, ns)]);
      const st = md.status ?? {};
      const ok =
        st.observedGeneration === md.metadata.generation &&
        st.updatedReplicas === replicas &&
        st.replicas === replicas &&
        st.readyReplicas === replicas &&
        st.availableReplicas === replicas &&
        machines.length === replicas &&
        machines.every(vmiReady);
      return [ok, `${JSON.stringify(st)} | ${describe(machines)}`];
    },
    FAST,
  );
}

/** Rolls `ns/name` to a new template (memory) and watches every Machine state on the way. */
async function roll(ns: string, name: string, memory: string, replicas: number) {
  const ever = new Map<string, boolean>();
  const check = (ms: Obj[]) => {
    for (const m of ms) {
      const ready = vmiReady(m);
      if (ever.get(m.metadata.uid) && !ready && !isDeleting(m))
        return `${m.metadata.name} was ready and is not any more: ${JSON.stringify(m.status)}`;
      if (ready) ever.set(m.metadata.uid, true);
    }
    const ready = live(ms).filter(vmiReady).length;
    if (ready < replicas) return `${ready} ready (< ${replicas}, maxUnavailable 0): ${describe(ms)}`;
    return undefined;
  };
  const before = new Set((await machinesOf(kube, ns)).map((m) => m.metadata.uid));
  const done = (ms: Obj[]) => ms.length === replicas && ms.every((m) => vmiReady(m) && !before.has(m.metadata.uid));
  const start = await kube.request<Obj>('GET', paths.machines(ns));
  const t0 = Date.now();
  const watching = watchMachines(ns, start, check, done, 120_000);
  await kube.patch(paths.md(ns, name), 'merge', {
    spec: { template: { spec: { providerSpec: { value: { cloudProviderSpec: { virtualMachine: { template: { memory } } } } } } } },
  });
  const seen = await watching;
  return { seen, ms: Date.now() - t0, before };
}

/** The rollout to 4Gi with the sink down; checks what holds at its end, still during the outage. */
async function rollWhileDown(ns: string, name: string, upMs: number): Promise<Obj[]> {
  const refusedBefore = sink.refused;
  const deliveredBefore = sink.delivered.length;
  const down = await roll(ns, name, '4Gi', 3);
  assert.equal(down.seen.violations, [], 'sink down: no Machine stopped being ready; ≥ 3 ready at every state');
  if (!down.seen.finished) assert.unreachable(`sink down: rollout not finished; ${await rolloutState(kube, ns)}`);
  await deploymentSettled(ns, name, 3);
  const fresh = (await machinesOf(kube, ns)).filter((m) => !down.before.has(m.metadata.uid));
  assert.is(fresh.length, 3);
  for (const m of fresh) {
    // The state every stage wrote while no follow-up could be sent.
    for (const t of ['VirtualMachineCreated', 'ImageImported', 'VMIReady'])
      assert.is(conditionOf(m, t)?.status, 'True', `${m.metadata.name} ${t}`);
    assert.is(m.status.providerStatus.phase, 'Ready');
    assert.ok(m.status.addresses?.length, `${m.metadata.name} has its address`);
    const record = m.status.providerStatus.emitted?.[FollowUpType.ready];
    assert.ok(!record || Boolean(record.failedAt), `${m.metadata.name}: machine.ready not recorded as sent: ${JSON.stringify(record)}`);
  }
  assert.ok(sink.refused - refusedBefore > 0, `the functions did try the sink during the outage (${sink.refused - refusedBefore} refused)`);
  assert.is(sink.delivered.length, deliveredBefore, 'nothing was delivered during the outage');
  console.log(
    `    rollout of 3 Machines: ${upMs} ms with the sink up, ${down.ms} ms with it down (${sink.refused - refusedBefore} follow-ups refused)`,
  );
  // Same timing except for follow-up delivery: generous, 2 cores are shared.
  assert.ok(down.ms < upMs * 3 + 15_000, `rollout with the sink down took ${down.ms} ms vs ${upMs} ms with it up`);
  return fresh;
}

test('Broker (sink) down during a 3-replica rollout: the rollout completes on state, no readiness flips, follow-ups arrive later in causal order', async () => {
  const ns = await freshNamespace('ready-outage');
  const name = 'workers';
  await kube.create(paths.mds(ns), machineDeployment(stack.imageUrl, ns, name, { replicas: 3, maxSurge: 1, maxUnavailable: 0 }));
  await deploymentSettled(ns, name, 3);

  // Baseline: the same rollout step with the sink up.
  const up = await roll(ns, name, '3Gi', 3);
  assert.equal(up.seen.violations, [], 'sink up: bounds and readiness held');
  if (!up.seen.finished) assert.unreachable(`sink up: rollout not finished; ${await rolloutState(kube, ns)}`);
  await deploymentSettled(ns, name, 3);
  await quiet();

  // The outage: from before the template change until after the rollout completed.
  sink.down = true;
  let fresh: Obj[];
  try {
    fresh = await rollWhileDown(ns, name, up.ms);
  } finally {
    sink.down = false;
  }
  // The Broker is back: Knative's redelivery, and at the latest the next resync tick, send what is
  // late. A send that failed in the last RESEND_AFTER_MS is held until then, so the tick comes after.
  await quiet(RESEND_AFTER_MS + 500);
  assert.is(await resyncTick(stack.bridge!.ingressUrl), 202);
  for (const m of fresh) {
    const want = [FollowUpType.provisioning, FollowUpType.imageImported, FollowUpType.ready];
    await until(
      `${m.metadata.name}: late follow-ups delivered`,
      async () => {
        const got = followUpsFor(m.metadata.uid);
        return [want.every((t) => got.includes(t)), got.join(', ')];
      },
      FAST,
    );
    const got = followUpsFor(m.metadata.uid);
    assert.equal(
      want.map((t) => got.indexOf(t)),
      [...want.map((t) => got.indexOf(t))].sort((a, b) => a - b),
      `causal order kept for ${m.metadata.name}: ${got.join(', ')}`,
    );
    assert.is(got.filter((t) => t === FollowUpType.ready).length, 1, 'machine.ready once');
  }
  // Readiness never depended on any of it.
  const after = await machinesOf(kube, ns);
  assert.ok(after.every(vmiReady), describe(after));
  await kube.delete(paths.md(ns, name));
});

test('MachineSet readyReplicas follows Node readiness once a Node is linked (status.nodeRef + Ready condition)', async () => {
  const ns = await freshNamespace('ready-node');
  await kube.create(paths.mss(ns), machineSet(stack.imageUrl, ns, 'pool', 2));
  const counts = async () => {
    const ms = await kube.get<Obj>(paths.ms(ns, 'pool'));
    return [ms.status?.readyReplicas ?? 0, ms.status?.availableReplicas ?? 0];
  };
  await until('2 ready', async () => [(await counts()).join() === '2,2', String(await counts())], FAST);
  const [a, b] = (await machinesOf(kube, ns)).sort((x, y) => x.metadata.name.localeCompare(y.metadata.name));
  assert.ok(vmiReady(a) && vmiReady(b));

  // What the node function writes when it links a Node, and mirrors its Ready condition.
  const link = (m: Obj, status: string, since: string) =>
    kube.patch(paths.machine(ns, m.metadata.name), 'merge', {
      status: {
        nodeRef: { apiVersion: 'v1', kind: 'Node', name: m.metadata.name, uid: `node-${m.metadata.uid}` },
        conditions: [{ type: 'Ready', status, reason: status === 'True' ? 'KubeletReady' : 'KubeletNotReady', lastTransitionTime: since }],
      },
    });
  await link(a, 'True', new Date(Date.now() - 60_000).toISOString());
  await quiet();
  assert.equal(await counts(), [2, 2], 'linked and Ready: still counted');

  await link(a, 'False', new Date().toISOString());
  await until('Node NotReady: readyReplicas drops to 1', async () => [(await counts()).join() === '1,1', String(await counts())], FAST);
  // VMIReady is still True, but a linked Node decides.
  assert.ok(vmiReady(await kube.get<Obj>(paths.machine(ns, a.metadata.name))));

  await link(a, 'Unknown', new Date().toISOString());
  await quiet();
  assert.equal(await counts(), [1, 1], 'Unknown is not ready');

  await link(a, 'True', new Date().toISOString());
  await until('Node Ready again: 2 ready', async () => [(await counts()).join() === '2,2', String(await counts())], FAST);
  // The other functions never overwrite what the node function owns.
  const again = await kube.get<Obj>(paths.machine(ns, a.metadata.name));
  assert.is(again.status.nodeRef.name, a.metadata.name);
  await kube.delete(paths.ms(ns, 'pool'));
});

test('errors belong to the function that wrote them: vmi does not clear a datavolume error and vice versa (owner, not message)', async () => {
  const ns = await freshNamespace('ready-errors');
  await kube.create(paths.mss(ns), machineSet(stack.imageUrl, ns, 'solo', 1));
  let m: Obj = undefined;
  await eventually(
    'a ready Machine',
    async () => {
      [m] = await machinesOf(kube, ns);
      return !!m && vmiReady(m) && conditionOf(m, 'ImageImported')?.status === 'True';
    },
    FAST,
  );
  const name = m.metadata.name;
  const path = paths.machine(ns, name);
  const vmiPath = `/apis/kubevirt.io/v1/namespaces/${INFRA_NAMESPACE}/virtualmachineinstances/${name}`;
  const dvPath = `/apis/cdi.kubevirt.io/v1beta1/namespaces/${INFRA_NAMESPACE}/datavolumes/${name}`;
  let touches = 0;
  /** A change of the object: its function reconciles it (level-triggered: it re-reads everything). */
  const touch = async (p: string) => {
    await kube.patch(p, 'merge', { metadata: { annotations: { 'test.kubevirt-machine-functions.io/touch': String(++touches) } } });
    await quiet(800);
  };
  const setError = (owner: string, message: string) =>
    kube.patch(path, 'merge', { status: { errorReason: 'CreateError', errorMessage: message, providerStatus: { errorOwner: owner } } });
  const error = async () => {
    const cur = await kube.get<Obj>(path);
    return [cur.status.errorReason ?? null, cur.status.providerStatus?.errorOwner ?? null];
  };

  // Each message starts as the *other* function's messages do, so a prefix test would get it wrong.
  await setError('datavolume', 'VirtualMachineInstance kube-system/x is failed: written by the datavolume function');
  await touch(vmiPath);
  assert.equal(await error(), ['CreateError', 'datavolume'], 'the vmi function left the datavolume error');
  await touch(dvPath);
  assert.equal(await error(), [null, null], 'the datavolume function cleared its own error (its DataVolume succeeded)');

  await setError('vmi', 'DataVolume kube-system/x import failed: written by the vmi function');
  await touch(dvPath);
  assert.equal(await error(), ['CreateError', 'vmi'], 'the datavolume function left the vmi error');
  await touch(vmiPath);
  assert.equal(await error(), [null, null], 'the vmi function cleared its own error (its VMI is ready)');
  await kube.delete(paths.ms(ns, 'solo'));
});

test.run();
