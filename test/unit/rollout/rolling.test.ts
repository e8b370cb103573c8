import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withDefaults } from '../../../shared/rollout/defaults.js';
import { computeTemplateHash, machineSetName } from '../../../shared/rollout/hash.js';
import { buildNewMachineSet } from '../../../shared/rollout/new-machineset.js';
import { planRollout, type RolloutAction } from '../../../shared/rollout/rolling.js';
import type { MachineDeployment, MachineSet } from '../../../shared/rollout/types.js';
import { iso, md, T0 } from './helpers.js';

const REV = 'machinedeployment.clusters.k8s.io/revision';
const DESIRED = 'machinedeployment.clusters.k8s.io/desired-replicas';
const MAX = 'machinedeployment.clusters.k8s.io/max-replicas';

/** A MachineSet as the planner would have created it for `d`'s template, with a status. */
function setFor(
  d: MachineDeployment,
  replicas: number,
  opts: { rev: string; available?: number; ready?: number; status?: number; age?: number; uid?: string },
): MachineSet {
  const dd = withDefaults(d);
  const s = buildNewMachineSet(dd, computeTemplateHash(dd.spec.template), opts.rev);
  s.spec.replicas = replicas;
  s.metadata.uid = opts.uid ?? `${s.metadata.name}-uid`;
  s.metadata.creationTimestamp = iso(T0 + (opts.age ?? 0) * 1000);
  s.metadata.generation = 1;
  s.status = {
    replicas: opts.status ?? replicas,
    readyReplicas: opts.ready ?? opts.available ?? replicas,
    availableReplicas: opts.available ?? replicas,
    fullyLabeledReplicas: replicas,
    observedGeneration: 1,
  };
  return s;
}

const sizes = (actions: RolloutAction[]) =>
  actions.flatMap((a) =>
    a.type === 'createMachineSet'
      ? [`create ${a.machineSet.metadata.name}=${a.machineSet.spec.replicas}`]
      : a.type === 'updateMachineSet' && a.replicas
        ? [`${a.name} ${a.replicas.from}->${a.replicas.to}`]
        : [],
  );

test('a fresh MachineDeployment: one MachineSet named <md>-<hash> with everything machine-controller sets', () => {
  const d = md({ replicas: 3 });
  d.metadata.annotations = { team: 'infra' };
  d.metadata.finalizers = ['foregroundDeletion'];
  const plan = planRollout({ md: d, machineSets: [] });
  assert.is(plan.mode, 'rollout');
  const hash = computeTemplateHash(d.spec.template);
  const name = machineSetName('workers', hash);
  assert.is(plan.newMachineSet, name);
  assert.is(plan.revision, '1');
  assert.equal(
    plan.actions.map((a) => a.type),
    ['createMachineSet', 'setDeploymentRevision'],
  );
  const created = (plan.actions[0] as { machineSet: MachineSet }).machineSet;
  assert.equal(created.metadata, {
    name,
    namespace: 'kube-system',
    labels: { app: 'workers', 'machine-template-hash': hash },
    annotations: { team: 'infra', [REV]: '1', [DESIRED]: '3', [MAX]: '4' },
    ownerReferences: [
      {
        apiVersion: 'cluster.k8s.io/v1alpha1',
        kind: 'MachineDeployment',
        name: 'workers',
        uid: 'md-uid',
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
    finalizers: ['foregroundDeletion'],
  });
  assert.equal(created.spec.selector, { matchLabels: { app: 'workers', 'machine-template-hash': hash } });
  assert.equal(created.spec.template!.metadata!.labels, { app: 'workers', 'machine-template-hash': hash });
  assert.equal(created.spec.template!.spec, d.spec.template!.spec);
  assert.is(created.spec.replicas, 3); // min(3 + 1 − 0, 3 − 0)
  assert.is(created.spec.minReadySeconds, 0);
  assert.equal(plan.actions[1], { type: 'setDeploymentRevision', revision: '1' });
  assert.equal(plan.status, {
    observedGeneration: 1,
    replicas: 0,
    updatedReplicas: 0,
    readyReplicas: 0,
    availableReplicas: 0,
    unavailableReplicas: 3,
  });
  assert.is(plan.complete, false);
});

test('steady state: nothing to do, complete', () => {
  const d = md({ replicas: 3 });
  d.metadata.annotations = { [REV]: '1' };
  const plan = planRollout({ md: d, machineSets: [setFor(d, 3, { rev: '1' })] });
  assert.equal(plan.actions, []);
  assert.ok(plan.complete);
  assert.equal(plan.status, {
    observedGeneration: 1,
    replicas: 3,
    updatedReplicas: 3,
    readyReplicas: 3,
    availableReplicas: 3,
    unavailableReplicas: 0,
  });
});

test('template change (3, surge 1, unavailable 0): new set starts at 1, old untouched until it is available', () => {
  const old = md({ replicas: 3, image: 'a' });
  const d = md({ replicas: 3, image: 'b', generation: 2 });
  const plan = planRollout({ md: d, machineSets: [setFor(old, 3, { rev: '1' })] });
  assert.equal(sizes(plan.actions), [`create ${plan.newMachineSet}=1`]);
  assert.is(plan.revision, '2');
  assert.equal(plan.status!.unavailableReplicas, 1);
});

test('template change (10, 25%, 25%): surge 3 up front, old down by 2 at once', () => {
  const old = md({ replicas: 10, image: 'a', maxSurge: '25%', maxUnavailable: '25%' });
  const d = md({ replicas: 10, image: 'b', maxSurge: '25%', maxUnavailable: '25%' });
  const plan = planRollout({ md: d, machineSets: [setFor(old, 10, { rev: '1' })] });
  // maxScaledDown = 13 − 8 − 3 = 2 → nothing unhealthy; available 10 − min 8 = 2.
  assert.equal(sizes(plan.actions), [`create ${plan.newMachineSet}=3`, `${setFor(old, 0, { rev: '1' }).metadata.name} 10->8`]);
});

test('unhealthy old replicas are removed first, oldest set first, without touching availability', () => {
  const a = md({ replicas: 4, image: 'a', maxSurge: 0, maxUnavailable: 1 });
  const b = md({ replicas: 4, image: 'b', maxSurge: 0, maxUnavailable: 1 });
  const d = md({ replicas: 4, image: 'c', maxSurge: 0, maxUnavailable: 1 });
  const healthy = setFor(a, 2, { rev: '1', age: 0 });
  const sick = setFor(b, 2, { rev: '2', available: 0, age: 10 });
  const plan = planRollout({ md: d, machineSets: [healthy, sick] });
  // New set: total 4 ≥ 4 + 0 → 0. maxScaledDown = 4 − 3 − 0 = 1: one unhealthy replica of `sick`.
  // Then availability 2 ≤ min 3: no further scale-down.
  assert.equal(sizes(plan.actions), [`create ${plan.newMachineSet}=0`, `${sick.metadata.name} 2->1`]);
});

test('a stale old status (more available than its size) does not cause a second scale-down', () => {
  const old = md({ replicas: 3, image: 'a' });
  const d = md({ replicas: 3, image: 'b' });
  const oldSet = setFor(old, 2, { rev: '1', available: 3, status: 3 }); // scaled 3→2, Machine not gone yet
  const newSet = setFor(d, 2, { rev: '2', available: 2 });
  const plan = planRollout({ md: d, machineSets: [oldSet, newSet] });
  // maxScaledDown = 4 − 3 − 0 = 1. Upstream sums 3 + 2 = 5 available, may remove 2 and would take
  // `old` to 0 — leaving 2 Machines where 3 must stay available. Counting at most 2 for `old`: 4 → 1.
  assert.equal(sizes(plan.actions), [`${oldSet.metadata.name} 2->1`]);
});

test('reported terminating Machines count towards the surge bound', () => {
  const old = md({ replicas: 3, image: 'a' });
  const d = md({ replicas: 3, image: 'b' });
  const oldSet = setFor(old, 2, { rev: '1' });
  const newSet = setFor(d, 1, { rev: '2' });
  assert.equal(sizes(planRollout({ md: d, machineSets: [oldSet, newSet] }).actions).slice(0, 1), [`${newSet.metadata.name} 1->2`]);
  const observed = { [oldSet.metadata.name]: { replicas: 2, ready: 2, available: 2, terminating: 1 } };
  const plan = planRollout({ md: d, machineSets: [oldSet, newSet], observed });
  assert.not.ok(sizes(plan.actions).some((s) => s.startsWith(newSet.metadata.name)));
});

test('scaling down a settled MachineDeployment resizes its set and refreshes the replica annotations', () => {
  const d = md({ replicas: 2 });
  const s = setFor(md({ replicas: 5 }), 5, { rev: '1' });
  const plan = planRollout({ md: d, machineSets: [s] });
  assert.equal(
    plan.actions.filter((a) => a.type === 'updateMachineSet'),
    [{ type: 'updateMachineSet', name: s.metadata.name, replicas: { from: 5, to: 2 }, annotations: { [DESIRED]: '2', [MAX]: '3' } }],
  );
});

test('MD annotations and minReadySeconds are synced to the existing new set; the MD revision follows the set', () => {
  const d = md({ replicas: 1 });
  const s = setFor(d, 1, { rev: '4' });
  d.metadata.annotations = { note: 'x', 'kubectl.kubernetes.io/last-applied-configuration': '{}' };
  d.spec.minReadySeconds = 30;
  const plan = planRollout({ md: d, machineSets: [s] });
  assert.equal(plan.actions, [
    { type: 'updateMachineSet', name: s.metadata.name, annotations: { note: 'x' }, minReadySeconds: 30 },
    { type: 'setDeploymentRevision', revision: '4' },
  ]);
});

test('complete rollout: old sets beyond revisionHistoryLimit are deleted, oldest first, only when fully scaled down', () => {
  const d = md({ replicas: 2, image: 'c' });
  d.metadata.annotations = { [REV]: '3' };
  const s1 = setFor(md({ image: 'a' }), 0, { rev: '1', age: 0 });
  const s2 = setFor(md({ image: 'b' }), 0, { rev: '2', age: 10 });
  const cur = setFor(d, 2, { rev: '3', age: 20 });
  const plan = planRollout({ md: d, machineSets: [s2, cur, s1] });
  assert.ok(plan.complete);
  assert.equal(plan.actions, [{ type: 'deleteMachineSet', name: s1.metadata.name, uid: s1.metadata.uid }]);
  // Its Machines not gone yet (status.replicas 1) → kept this time.
  const lingering = setFor(md({ image: 'a' }), 0, { rev: '1', age: 0, status: 1, available: 0 });
  assert.equal(planRollout({ md: d, machineSets: [s2, cur, lingering] }).actions, []);
  // revisionHistoryLimit 0 → every fully scaled-down old set goes.
  d.spec.revisionHistoryLimit = 0;
  assert.equal(
    planRollout({ md: d, machineSets: [s2, cur, s1] }).actions.map((a) => a.type),
    ['deleteMachineSet', 'deleteMachineSet'],
  );
});

test('no cleanup while the rollout is incomplete', () => {
  const d = md({ replicas: 2, image: 'c' });
  const s1 = setFor(md({ image: 'a' }), 0, { rev: '1', age: 0 });
  const s2 = setFor(md({ image: 'b' }), 0, { rev: '2', age: 10 });
  const cur = setFor(d, 2, { rev: '3', age: 20, available: 1 });
  assert.not.ok(planRollout({ md: d, machineSets: [s1, s2, cur] }).actions.some((a) => a.type === 'deleteMachineSet'));
});

test('paused: no new set for a new template; sizes only', () => {
  const old = md({ replicas: 3, image: 'a' });
  const d = md({ replicas: 5, image: 'b', paused: true });
  const s = setFor(old, 3, { rev: '1' });
  const plan = planRollout({ md: d, machineSets: [s] });
  assert.is(plan.mode, 'scale');
  assert.is(plan.newMachineSet, undefined);
  assert.equal(sizes(plan.actions), [`${s.metadata.name} 3->5`]);
});

test('paused mid-rollout and scaled 10 → 15: the 5 extra split proportionally (3 old, 2 new)', () => {
  const old = md({ replicas: 10, image: 'a', maxSurge: 3, maxUnavailable: 2 });
  const d = md({ replicas: 15, image: 'b', maxSurge: 3, maxUnavailable: 2, paused: true });
  const oldSet = setFor(old, 8, { rev: '1', age: 0 });
  const newSet = setFor(md({ replicas: 10, image: 'b', maxSurge: 3, maxUnavailable: 2 }), 5, { rev: '2', age: 10, available: 0 });
  const plan = planRollout({ md: d, machineSets: [oldSet, newSet] });
  assert.equal(sizes(plan.actions).sort(), [`${newSet.metadata.name} 5->7`, `${oldSet.metadata.name} 8->11`].sort());
  for (const a of plan.actions) if (a.type === 'updateMachineSet') assert.equal(a.annotations, { [DESIRED]: '15', [MAX]: '18' });
});

test('paused and scaled to 0: every active set goes to 0', () => {
  const d = md({ replicas: 0, image: 'b', paused: true });
  const oldSet = setFor(md({ replicas: 4, image: 'a' }), 3, { rev: '1', age: 0 });
  const newSet = setFor(md({ replicas: 4, image: 'b' }), 2, { rev: '2', age: 10 });
  const plan = planRollout({ md: d, machineSets: [oldSet, newSet] });
  assert.equal(sizes(plan.actions).sort(), [`${newSet.metadata.name} 2->0`, `${oldSet.metadata.name} 3->0`].sort());
});

test('a MachineDeployment being deleted only scales, like a paused one', () => {
  const d = md({ replicas: 3, image: 'b' });
  d.metadata.deletionTimestamp = iso(T0);
  const plan = planRollout({ md: d, machineSets: [setFor(md({ image: 'a', replicas: 3 }), 3, { rev: '1' })] });
  assert.is(plan.mode, 'scale');
  assert.not.ok(plan.actions.some((a) => a.type === 'createMachineSet'));
});

test('hash collision: a set of the computed name with another template → collisionCount, then a new name', () => {
  const d = md({ replicas: 2, image: 'b' });
  const squatter = setFor(md({ image: 'a' }), 2, { rev: '1' });
  squatter.metadata.name = machineSetName('workers', computeTemplateHash(d.spec.template));
  const plan = planRollout({ md: d, machineSets: [squatter] });
  assert.ok(plan.collision);
  assert.equal(plan.actions, []);
  assert.is(plan.status!.collisionCount, 1);
  d.status = { collisionCount: 1 };
  const next = planRollout({ md: d, machineSets: [squatter] });
  assert.is(next.newMachineSet, machineSetName('workers', computeTemplateHash(d.spec.template, 1)));
  assert.is(next.status!.collisionCount, 1);
});

test('an invalid MachineDeployment plans nothing and reports its issues', () => {
  const d = md({ replicas: 2 });
  d.spec.selector = { matchLabels: { app: 'other' } };
  const plan = planRollout({ md: d, machineSets: [] });
  assert.is(plan.mode, 'invalid');
  assert.equal(plan.actions, []);
  assert.is(plan.status, undefined);
  assert.equal(
    plan.issues.map((i) => i.detail),
    ['`selector` does not match template `labels`'],
  );
});

test('inputs are not modified', () => {
  const d = md({ replicas: 3, image: 'b' });
  const sets = [setFor(md({ replicas: 3, image: 'a' }), 3, { rev: '1' })];
  const snapshot = structuredClone({ d, sets });
  planRollout({ md: d, machineSets: sets });
  assert.equal({ d, sets }, snapshot);
});

test.run();
