/**
 * Rollouts end to end on the in-memory model: at every step no more than replicas + maxSurge
 * Machines exist and no fewer than replicas − maxUnavailable are ready, and at the end only the
 * new MachineSet has Machines and the revision annotations are right.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withDefaults } from '../../../shared/rollout/defaults.js';
import { maxSurgeOf, maxUnavailableOf } from '../../../shared/rollout/intstr.js';
import type { IntOrString } from '../../../shared/rollout/types.js';
import { md } from './helpers.js';
import { Sim, type SimOptions } from './sim.js';

const REV = 'machinedeployment.clusters.k8s.io/revision';

function rollout(
  replicas: number,
  maxSurge: IntOrString,
  maxUnavailable: IntOrString,
  opts: SimOptions & { minReadySeconds?: number } = {},
) {
  const d = md({ replicas, maxSurge, maxUnavailable, image: 'a' });
  if (opts.minReadySeconds !== undefined) d.spec.minReadySeconds = opts.minReadySeconds;
  const sim = new Sim(d, opts);
  sim.converge();
  assert.equal(Object.values(sim.perSet()), [replicas], 'initial state');
  const firstSet = sim.sets[0].metadata.name;

  // Change the template.
  sim.md.spec.template!.spec!.providerSpec = { value: { cloudProviderSpec: { image: 'b' } } };
  sim.md.metadata.generation = 2;
  const defaulted = withDefaults(sim.md);
  const surge = maxSurgeOf(defaulted);
  const unavailable = maxUnavailableOf(defaulted);
  let steps = 0;
  sim.converge((r) => {
    steps++;
    assert.ok(
      r.existing <= replicas + surge,
      `step ${steps}: ${r.existing} Machines exist, bound ${replicas + surge} (${JSON.stringify(r.perSet)})`,
    );
    assert.ok(
      r.ready >= replicas - unavailable,
      `step ${steps}: ${r.ready} ready, minimum ${replicas - unavailable} (${JSON.stringify(r.perSet)})`,
    );
  });

  const newSet = sim.sets.find((s) => s.metadata.name !== firstSet)!;
  assert.equal(sim.perSet(), { [newSet.metadata.name]: replicas }, 'only the new MachineSet has Machines');
  assert.equal(
    sim.sets.map((s) => [s.metadata.name, s.spec.replicas]),
    [
      [firstSet, 0],
      [newSet.metadata.name, replicas],
    ],
    'old set kept at 0 (revisionHistoryLimit 1)',
  );
  assert.is(newSet.metadata.annotations![REV], '2');
  assert.is(newSet.metadata.annotations!['machinedeployment.clusters.k8s.io/desired-replicas'], String(replicas));
  assert.is(newSet.metadata.annotations!['machinedeployment.clusters.k8s.io/max-replicas'], String(replicas + surge));
  assert.is(sim.md.metadata.annotations![REV], '2');
  assert.equal(sim.md.status, {
    observedGeneration: 2,
    replicas,
    updatedReplicas: replicas,
    readyReplicas: replicas,
    availableReplicas: replicas,
    unavailableReplicas: 0,
  });
  return { sim, steps };
}

const COMBOS: [number, IntOrString, IntOrString][] = [
  [3, 1, 0],
  [1, 1, 0],
  [3, 0, 1],
  [5, 2, 2],
  [10, '25%', '25%'],
  [4, '50%', 0],
  [5, '0%', '10%'], // surge 0, unavailable rounds to 0 → 1
  [2, '1%', '0%'], // surge rounds up to 1
  [6, 0, '50%'],
  [7, 3, '100%'],
];
for (const [r, s, u] of COMBOS) {
  test(`rollout replicas=${r} maxSurge=${JSON.stringify(s)} maxUnavailable=${JSON.stringify(u)}: bounds hold at every step`, () => {
    rollout(r, s, u);
  });
}

for (const [r, s, u] of [
  [3, 1, 0],
  [10, '25%', '25%'],
  [5, 0, 2],
] as [number, IntOrString, IntOrString][]) {
  test(`rollout ${r}/${JSON.stringify(s)}/${JSON.stringify(u)} with slow deletions reported as terminating: existing Machines stay in bounds`, () => {
    rollout(r, s, u, { deleteSteps: 2, reportTerminating: true });
  });
}

test('negative control: slow deletions NOT reported — upstream arithmetic lets existing Machines exceed the bound', () => {
  // Why `observed.terminating` exists: machine-controller counts only spec replicas, so Machines
  // still being deleted (finalizers) come on top of replicas + maxSurge.
  const sim = new Sim(md({ replicas: 3, maxSurge: 1, maxUnavailable: 0, image: 'a' }), { deleteSteps: 2 });
  sim.converge();
  sim.md.spec.template!.spec!.providerSpec = { value: { image: 'b' } };
  let max = 0;
  sim.converge((r) => {
    max = Math.max(max, r.existing);
    assert.ok(r.ready >= 3);
  });
  assert.is(max, 5);
});

test('rollout with minReadySeconds longer than a step', () => {
  const { steps } = rollout(4, 1, 1, { minReadySeconds: 25 });
  const fast = rollout(4, 1, 1).steps;
  assert.ok(steps > fast, `${steps} steps with minReadySeconds vs ${fast} without`);
});

test('rollouts with different seeds (Random delete order) all hold the bounds', () => {
  for (let seed = 1; seed <= 5; seed++) rollout(5, 2, 1, { seed });
});

test('scale 0 → 5 → 2 → 0 through the MachineDeployment', () => {
  const sim = new Sim(md({ replicas: 0 }));
  let previous = 0;
  for (const replicas of [0, 5, 2, 0]) {
    sim.md.spec.replicas = replicas;
    // Scaling (no template change) never surges: counts move straight from one size to the other.
    sim.converge((r) => assert.ok(r.existing <= Math.max(previous, replicas), `${r.existing} Machines`));
    previous = replicas;
    const counts = Object.values(sim.perSet());
    assert.is(
      counts.reduce((a, b) => a + b, 0),
      replicas,
      `replicas ${replicas}`,
    );
    assert.is(sim.sets.length, 1);
    assert.is(sim.sets[0].spec.replicas, replicas);
    assert.is(sim.md.status!.replicas, replicas);
  }
});

test('a paused MachineDeployment does not roll until unpaused, but still scales', () => {
  const sim = new Sim(md({ replicas: 2 }));
  sim.converge();
  const before = sim.sets[0].metadata.name;
  sim.md.spec.paused = true;
  sim.md.spec.template!.spec!.providerSpec = { value: { image: 'new' } };
  for (let i = 0; i < 5; i++) assert.equal(sim.step().plan.mode, 'scale');
  assert.equal(
    sim.sets.map((s) => s.metadata.name),
    [before],
  );
  sim.md.spec.replicas = 3;
  for (let i = 0; i < 5; i++) sim.step();
  assert.equal(sim.perSet(), { [before]: 3 });
  sim.md.spec.paused = false;
  sim.converge();
  assert.equal(Object.values(sim.perSet()), [3]);
  assert.is.not(Object.keys(sim.perSet())[0], before);
});

test('rolling back re-uses the old MachineSet with a new revision and history', () => {
  const sim = new Sim(md({ replicas: 2, image: 'a' }));
  sim.converge();
  const original = structuredClone(sim.md.spec.template);
  sim.md.spec.template!.spec!.providerSpec = { value: { image: 'b' } };
  sim.converge();
  sim.md.spec.template = original;
  sim.converge();
  const first = sim.sets.find((s) => s.metadata.annotations![REV] === '3')!;
  assert.ok(first, 'the first MachineSet serves revision 3');
  assert.is(first.metadata.annotations!['machinedeployment.clusters.k8s.io/revision-history'], '1');
  assert.is(sim.md.metadata.annotations![REV], '3');
  assert.equal(Object.values(sim.perSet()), [2]);
});

test('a second template change mid-rollout: the intermediate set is scaled away, history limit enforced', () => {
  const sim = new Sim(md({ replicas: 4, maxSurge: 2, maxUnavailable: 1, image: 'a' }));
  sim.converge();
  sim.md.spec.template!.spec!.providerSpec = { value: { image: 'b' } };
  sim.step();
  sim.step();
  sim.md.spec.template!.spec!.providerSpec = { value: { image: 'c' } };
  sim.converge((r) => {
    assert.ok(r.existing <= 6);
    assert.ok(r.ready >= 3);
  });
  assert.equal(Object.values(sim.perSet()), [4]);
  assert.is(sim.sets.length, 2, 'one old set kept (revisionHistoryLimit 1)');
  assert.equal(sim.sets.map((s) => s.metadata.annotations![REV]).sort(), ['2', '3']);
});

test.run();
