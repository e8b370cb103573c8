/**
 * Issue 7 end to end, on the real control plane with the simulator, every function server under
 * its knative/ ServiceAccount and the event bridge routing as the Triggers do: scaling through
 * the scale subresource, the MachineSet delete policies, rolling updates bounded by maxSurge /
 * maxUnavailable at every observed state, pausing, and invalid MachineDeployments.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { startStack, type Stack } from '../../../dev/stack/index.js';
import { ANN_DELETE_MACHINE, ANN_MD_DESIRED_REPLICAS, ANN_MD_MAX_REPLICAS, ANN_MD_REVISION } from '../../../shared/constants.js';
import { ApiError, type KubeClient } from '../../../shared/kube/rest.js';
import { eventually, freshNamespace } from '../support/kube.js';
import {
  describe,
  eventsAbout,
  isDeleting,
  isReady,
  machineDeployment,
  machineSet,
  machineSetsOf,
  machinesOf,
  nodeLinkedReady,
  ownerSet,
  paths,
  rolloutState,
  scaleDeployment,
  sleep,
  until,
  watchMachines,
  type Obj,
} from './md-support.js';

const test = suite('end to end: MachineDeployment and MachineSet');
let stack: Stack;
let kube: KubeClient;
const FAST = { timeoutMs: 60_000, intervalMs: 100 };

test.before(async () => {
  stack = await startStack({
    kubeconfig: readFileSync(process.env.KUBECONFIG!, 'utf8'),
    simulatorTimings: { dvStepMs: 20, importChunkMs: 20, vmiStepMs: 20, restartBackoffMs: 40 },
    backoffScale: 0.05,
    pingIntervalMs: 3_600_000,
  });
  kube = stack.admin;
});
test.after(async () => {
  await stack?.stop();
});

/** Waits until every delivery has been handled, then a little longer (late watch events). */
async function quiet(ms = 1_500): Promise<void> {
  await stack.bridge?.idle();
  await sleep(ms);
  await stack.bridge?.idle();
}

// ── scale ───────────────────────────────────────────────────────────────────────────────

test('scale 0 → 5 → 2 → 0 through the scale subresource: Machines, MachineSet and MachineDeployment status follow', async () => {
  const ns = await freshNamespace('md-scale');
  await kube.create(paths.mds(ns), machineDeployment(stack.imageUrl, ns, 'workers', { replicas: 0 }));
  await eventually('a MachineSet of size 0', async () => (await machineSetsOf(kube, ns)).length === 1, FAST);

  for (const target of [5, 2, 0]) {
    const scale = await scaleDeployment(kube, ns, 'workers', target);
    assert.is(scale.kind, 'Scale');
    assert.is(scale.spec.replicas ?? 0, target, 'the Scale answered (autoscaling/v1 omits a 0 spec.replicas)');
    await until(`${target} Machines`, async () => {
      const [machines, sets, md] = await Promise.all([machinesOf(kube, ns), machineSetsOf(kube, ns), kube.get(paths.md(ns, 'workers'))]);
      const ms = sets[0];
      const ok =
        machines.length === target &&
        machines.filter(isReady).length === target &&
        // Settled: a Node linking before it is Ready would still take one out of the counts.
        machines.every(nodeLinkedReady) &&
        sets.length === 1 &&
        ms.status?.replicas === target &&
        ms.status?.readyReplicas === target &&
        // Available follows ready in a later status write when a Node's Ready arrives last.
        ms.status?.availableReplicas === target &&
        md.status?.replicas === target &&
        md.status?.readyReplicas === target &&
        md.status?.observedGeneration === md.metadata.generation;
      return [ok, `${describe(machines)} | ms ${ms?.spec.replicas} ${JSON.stringify(ms?.status)} | md ${JSON.stringify(md.status)}`];
    });
    const [machines, sets, md] = await Promise.all([machinesOf(kube, ns), machineSetsOf(kube, ns), kube.get(paths.md(ns, 'workers'))]);
    assert.is(machines.filter((m) => !isDeleting(m)).length, target);
    assert.ok(
      machines.every((m) => ownerSet(m) === sets[0].metadata.name),
      "every Machine is the MachineSet's",
    );
    assert.is(sets.length, 1, 'scaling makes no new revision');
    assert.is(sets[0].spec.replicas, target);
    assert.is(sets[0].status.replicas, target);
    assert.is(sets[0].status.availableReplicas, target);
    assert.is(md.spec.replicas, target);
    assert.equal(
      {
        replicas: md.status.replicas,
        updated: md.status.updatedReplicas,
        ready: md.status.readyReplicas,
        available: md.status.availableReplicas,
        unavailable: md.status.unavailableReplicas,
      },
      { replicas: target, updated: target, ready: target, available: target, unavailable: 0 },
    );
    const read = await kube.get(`${paths.md(ns, 'workers')}/scale`);
    assert.equal([read.spec.replicas ?? 0, read.status.replicas], [target, target]);
  }
});

// ── delete policies ─────────────────────────────────────────────────────────────────────

/** Live Machines of a MachineSet (not being deleted), oldest first. */
async function liveMachines(ns: string): Promise<Obj[]> {
  const all = (await machinesOf(kube, ns)).filter((m) => !isDeleting(m));
  return all.sort((a, b) => Date.parse(a.metadata.creationTimestamp) - Date.parse(b.metadata.creationTimestamp));
}

async function resizeSet(ns: string, name: string, replicas: number): Promise<void> {
  await kube.patch(paths.ms(ns, name), 'merge', { spec: { replicas } });
}

/** Waits for exactly `n` live Machines and returns them, oldest first. */
async function waitForLive(ns: string, n: number, ready = false): Promise<Obj[]> {
  let out: Obj[] = [];
  await eventually(
    `${n} live Machines`,
    async () => {
      out = await liveMachines(ns);
      return out.length === n && (!ready || out.every(isReady));
    },
    FAST,
  );
  return out;
}

/** A MachineSet grown one Machine at a time, 1.1 s apart (creationTimestamp has 1 s resolution). */
async function agedMachineSet(policy: string, n: number): Promise<{ ns: string; names: string[] }> {
  const ns = await freshNamespace(`ms-${policy.toLowerCase()}`);
  await kube.create(paths.mss(ns), machineSet(stack.imageUrl, ns, 'pool', 1, policy));
  for (let i = 1; i <= n; i++) {
    if (i > 1) {
      await sleep(1_100);
      await resizeSet(ns, 'pool', i);
    }
    await waitForLive(ns, i);
  }
  const machines = await waitForLive(ns, n, true);
  const times = machines.map((m) => Date.parse(m.metadata.creationTimestamp));
  assert.ok(
    times.every((t, i) => i === 0 || t > times[i - 1]),
    `distinct creation times: ${machines.map((m) => m.metadata.creationTimestamp)}`,
  );
  return { ns, names: machines.map((m) => m.metadata.name) };
}

async function scaleDownAndSee(ns: string, to: number, before: string[]): Promise<string[]> {
  await resizeSet(ns, 'pool', to);
  const after = (await waitForLive(ns, to)).map((m) => m.metadata.name);
  await quiet(300);
  assert.equal(
    (await liveMachines(ns)).map((m) => m.metadata.name),
    after,
    'no further deletions',
  );
  return before.filter((n) => !after.includes(n));
}

test('delete policy Newest: the youngest Machines go first', async () => {
  const { ns, names } = await agedMachineSet('Newest', 3);
  const [oldest, middle, newest] = names;
  assert.equal(await scaleDownAndSee(ns, 2, names), [newest]);
  assert.equal(await scaleDownAndSee(ns, 1, [oldest, middle]), [middle]);
  assert.equal(
    (await liveMachines(ns)).map((m) => m.metadata.name),
    [oldest],
  );
});

test('delete policy Oldest: the oldest Machines go first, a delete-machine annotation before any age', async () => {
  const { ns, names } = await agedMachineSet('Oldest', 3);
  const [oldest, middle, newest] = names;
  assert.equal(await scaleDownAndSee(ns, 2, names), [oldest]);
  await kube.patch(paths.machine(ns, newest), 'merge', { metadata: { annotations: { [ANN_DELETE_MACHINE]: 'yes' } } });
  assert.equal(await scaleDownAndSee(ns, 1, [middle, newest]), [newest]);
});

test('delete policy Random (the default): Machines annotated delete-machine and a Machine in error go first', async () => {
  const ns = await freshNamespace('ms-random');
  await kube.create(paths.mss(ns), machineSet(stack.imageUrl, ns, 'pool', 8));
  const names = (await waitForLive(ns, 8, true)).map((m) => m.metadata.name);
  const mark = (name: string) =>
    kube.patch(paths.machine(ns, name), 'merge', { metadata: { annotations: { [ANN_DELETE_MACHINE]: 'true' } } });
  const [marked, broken] = [names[2], names[5]];
  await mark(marked);
  // A providerSpec the machine function refuses: it reports InvalidConfiguration on every reconcile.
  await kube.patch(paths.machine(ns, broken), 'merge', { spec: { providerSpec: { value: { operatingSystem: 'plan9' } } } });
  await eventually(
    'the broken Machine reports its error',
    async () => (await kube.get(paths.machine(ns, broken))).status?.errorReason === 'InvalidConfiguration',
    FAST,
  );
  assert.equal((await scaleDownAndSee(ns, 6, names)).sort(), [marked, broken].sort());
  // Once more with two annotated ones. By chance both rounds: 1 in C(8,2)·C(6,2) = 420.
  const rest = names.filter((n) => n !== marked && n !== broken);
  await Promise.all([mark(rest[0]), mark(rest[4])]);
  assert.equal((await scaleDownAndSee(ns, 4, rest)).sort(), [rest[0], rest[4]].sort());
});

// ── rolling update ──────────────────────────────────────────────────────────────────────

interface RollCase {
  maxSurge: number;
  maxUnavailable: number;
  change: (name: string) => Obj;
  /** The change shows on a Machine. */
  applied: (m: Obj) => boolean;
  what: string;
}

async function rollingUpdate(c: RollCase): Promise<void> {
  const replicas = 3;
  const ns = await freshNamespace('md-roll');
  const name = 'workers';
  await kube.create(
    paths.mds(ns),
    machineDeployment(stack.imageUrl, ns, name, { replicas, maxSurge: c.maxSurge, maxUnavailable: c.maxUnavailable }),
  );
  await until(
    '3 Ready Machines',
    async () => {
      const md = await kube.get(paths.md(ns, name));
      const ok =
        md.status?.readyReplicas === replicas &&
        md.status?.availableReplicas === replicas &&
        (await machinesOf(kube, ns)).filter(isReady).length === replicas;
      return [ok, ok ? '' : `MachineDeployment status ${JSON.stringify(md.status ?? {})} | ${await rolloutState(kube, ns)}`];
    },
    FAST,
  );
  const [oldSet] = await machineSetsOf(kube, ns);
  const oldName = oldSet.metadata.name;

  const maxExisting = replicas + c.maxSurge;
  const minReady = replicas - c.maxUnavailable;
  const check = (ms: Obj[]) => {
    const ready = ms.filter(isReady).length;
    if (ms.length > maxExisting) return `${ms.length} Machines exist (> ${maxExisting}): ${describe(ms)}`;
    if (ready < minReady) return `${ready} Ready (< ${minReady}): ${describe(ms)}`;
    return undefined;
  };
  const done = (ms: Obj[]) => ms.length === replicas && ms.every((m) => isReady(m) && ownerSet(m) !== oldName);
  const start = await kube.request('GET', paths.machines(ns));
  const watching = watchMachines(ns, start, check, done, 90_000);
  await kube.patch(paths.md(ns, name), 'merge', c.change(name));
  const seen = await watching;
  assert.equal(seen.violations, [], `${c.what}: bounds held at every state`);
  assert.ok(seen.finished, `rollout finished; last: ${describe(seen.last)}`);
  // 3 creations and 3 deletions at least, each several writes: the watch saw the steps.
  assert.ok(seen.states > 12, `states observed: ${seen.states}`);

  await until('MachineDeployment status settled', async () => {
    const md = await kube.get(paths.md(ns, name));
    const st = md.status ?? {};
    const ok =
      st.observedGeneration === md.metadata.generation &&
      st.updatedReplicas === replicas &&
      st.replicas === replicas &&
      st.availableReplicas === replicas;
    return [ok, JSON.stringify(st)];
  });
  await quiet(500);
  const [md, sets, machines] = await Promise.all([kube.get(paths.md(ns, name)), machineSetsOf(kube, ns), machinesOf(kube, ns)]);
  assert.equal(md.status, {
    ...md.status,
    observedGeneration: md.metadata.generation,
    replicas,
    updatedReplicas: replicas,
    readyReplicas: replicas,
    availableReplicas: replicas,
    unavailableReplicas: 0,
  });
  assert.is(md.metadata.generation, 2);
  assert.is(md.metadata.annotations?.[ANN_MD_REVISION], '2');
  assert.is(sets.length, 2, 'the old MachineSet is kept (revisionHistoryLimit 1)');
  const oldMs = sets.find((s) => s.metadata.name === oldName)!;
  const newMs = sets.find((s) => s.metadata.name !== oldName)!;
  assert.is(oldMs.spec.replicas, 0);
  assert.is(oldMs.status.replicas, 0);
  assert.is(oldMs.metadata.annotations[ANN_MD_REVISION], '1');
  assert.is(newMs.spec.replicas, replicas);
  assert.is(newMs.status.replicas, replicas);
  assert.is(newMs.metadata.annotations[ANN_MD_REVISION], '2');
  assert.is(newMs.metadata.annotations[ANN_MD_DESIRED_REPLICAS], String(replicas));
  assert.is(newMs.metadata.annotations[ANN_MD_MAX_REPLICAS], String(replicas + c.maxSurge));
  assert.match(newMs.metadata.name, new RegExp(`^${name}-[a-z0-9]+$`));
  assert.is(machines.length, replicas);
  assert.ok(
    machines.every((m) => ownerSet(m) === newMs.metadata.name && isReady(m)),
    describe(machines),
  );
  assert.ok(machines.every(c.applied), `${c.what} on every Machine`);
}

test('a template change (memory) rolls with maxSurge 1, maxUnavailable 0: ≤ 4 Machines exist and ≥ 3 are Ready at every state', () =>
  rollingUpdate({
    maxSurge: 1,
    maxUnavailable: 0,
    what: 'memory 2Gi → 3Gi',
    change: () => ({
      spec: { template: { spec: { providerSpec: { value: { cloudProviderSpec: { virtualMachine: { template: { memory: '3Gi' } } } } } } } },
    }),
    applied: (m) => m.spec.providerSpec.value.cloudProviderSpec.virtualMachine.template.memory === '3Gi',
  }));

test('a template change (label) rolls with maxSurge 1, maxUnavailable 1: ≤ 4 Machines exist and ≥ 2 are Ready at every state', () =>
  rollingUpdate({
    maxSurge: 1,
    maxUnavailable: 1,
    what: 'label tier=b',
    change: (name) => ({ spec: { template: { metadata: { labels: { pool: name, tier: 'b' } } } } }),
    applied: (m) => m.metadata.labels.tier === 'b',
  }));

// ── paused ──────────────────────────────────────────────────────────────────────────────

test('a paused MachineDeployment does nothing until unpaused: no MachineSet when created paused, no rollout of a template change', async () => {
  const ns = await freshNamespace('md-paused');
  const name = 'workers';
  await kube.create(paths.mds(ns), machineDeployment(stack.imageUrl, ns, name, { replicas: 2, paused: true }));
  // The function has seen it (observedGeneration), and still nothing is created.
  await eventually('paused MD observed', async () => (await kube.get(paths.md(ns, name))).status?.observedGeneration === 1, FAST);
  await quiet(2_000);
  assert.equal(await machineSetsOf(kube, ns), []);
  assert.equal(await machinesOf(kube, ns), []);

  await kube.patch(paths.md(ns, name), 'merge', { spec: { paused: false } });
  await eventually('2 Ready Machines', async () => (await machinesOf(kube, ns)).filter(isReady).length === 2, FAST);
  const [first] = await machineSetsOf(kube, ns);
  const firstMachines = (await machinesOf(kube, ns)).map((m) => m.metadata.name).sort();

  await kube.patch(paths.md(ns, name), 'merge', { spec: { paused: true } });
  await kube.patch(paths.md(ns, name), 'merge', { spec: { template: { metadata: { labels: { pool: name, tier: 'b' } } } } });
  const generation = (await kube.get(paths.md(ns, name))).metadata.generation;
  await eventually(
    'template change observed',
    async () => (await kube.get(paths.md(ns, name))).status?.observedGeneration === generation,
    FAST,
  );
  await quiet(2_000);
  const sets = await machineSetsOf(kube, ns);
  assert.equal(
    sets.map((s) => s.metadata.name),
    [first.metadata.name],
    'no new MachineSet while paused',
  );
  assert.is(sets[0].spec.replicas, 2);
  assert.equal((await machinesOf(kube, ns)).map((m) => m.metadata.name).sort(), firstMachines, 'no Machine replaced while paused');

  await kube.patch(paths.md(ns, name), 'merge', { spec: { paused: false } });
  await until('rolled after unpausing', async () => {
    const [ms, machines] = await Promise.all([machineSetsOf(kube, ns), machinesOf(kube, ns)]);
    const newSet = ms.find((s) => s.metadata.name !== first.metadata.name);
    const ok =
      Boolean(newSet) &&
      machines.length === 2 &&
      machines.every((m) => isReady(m) && ownerSet(m) === newSet!.metadata.name && m.metadata.labels.tier === 'b');
    return [
      ok,
      `${describe(machines)} | ${ms.map((x) => `${x.metadata.name} ${x.spec.replicas} ${JSON.stringify(x.status)}`).join(' | ')}`,
    ];
  });
});

// ── invalid ─────────────────────────────────────────────────────────────────────────────

const INVALID: { what: string; options: Parameters<typeof machineDeployment>[3]; message: string }[] = [
  {
    what: 'a selector that does not match the template labels',
    options: { replicas: 2, labels: { pool: 'a' }, selector: { pool: 'b' } },
    message: 'spec.template.metadata.labels: Invalid value: {"pool":"a"}: `selector` does not match template `labels`',
  },
  {
    what: 'maxSurge 0 and maxUnavailable 0',
    options: { replicas: 2, maxSurge: 0, maxUnavailable: 0 },
    message: 'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0',
  },
];

for (const c of INVALID) {
  test(`an invalid MachineDeployment (${c.what}) gets its error on status and a Warning Event, and creates nothing`, async () => {
    const ns = await freshNamespace('md-invalid');
    await kube.create(paths.mds(ns), machineDeployment(stack.imageUrl, ns, 'bad', c.options));
    await eventually(
      'errorReason on status',
      async () => (await kube.get(paths.md(ns, 'bad'))).status?.errorReason === 'InvalidConfiguration',
      FAST,
    );
    const md = await kube.get(paths.md(ns, 'bad'));
    assert.is(md.status.errorMessage, c.message);
    await eventually('a Warning Event', async () => (await eventsAbout(kube, ns, 'MachineDeployment', 'bad')).length > 0, FAST);
    await quiet(1_500);
    const events = await eventsAbout(kube, ns, 'MachineDeployment', 'bad');
    assert.equal(
      events.map((e) => [e.type, e.reason, e.message]),
      [['Warning', 'InvalidConfiguration', c.message]],
      'one Warning Event with the status message',
    );
    assert.equal(await machineSetsOf(kube, ns), []);
    assert.equal(await machinesOf(kube, ns), []);
  });
}

test("replicas -1 is refused by the API server (the CRD's scale subresource checks spec.replicas), on create and on update; nothing is created", async () => {
  const ns = await freshNamespace('md-invalid');
  const refusal = async (write: Promise<unknown>): Promise<ApiError> => {
    try {
      await write;
    } catch (e) {
      if (e instanceof ApiError) return e;
      throw e;
    }
    throw new Error('accepted');
  };
  const created = await refusal(kube.create(paths.mds(ns), machineDeployment(stack.imageUrl, ns, 'bad', { replicas: -1 })));
  assert.is(created.status, 422);
  assert.match(created.message, '.spec.replicas: Invalid value: -1: should be a non-negative integer');
  // A valid one cannot be made negative either: not through the object, not through /scale.
  await kube.create(paths.mds(ns), machineDeployment(stack.imageUrl, ns, 'ok', { replicas: 0 }));
  assert.is((await refusal(kube.patch(paths.md(ns, 'ok'), 'merge', { spec: { replicas: -1 } }))).status, 422);
  assert.is((await refusal(scaleDeployment(kube, ns, 'ok', -1))).status, 422);
  await quiet(1_000);
  assert.equal(await machinesOf(kube, ns), []);
  assert.equal(
    (await machineSetsOf(kube, ns)).map((ms) => ms.spec.replicas),
    [0],
  );
  assert.is((await kube.get(paths.md(ns, 'ok'))).spec.replicas, 0);
});

test.run();
