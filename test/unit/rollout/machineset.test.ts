import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { seededRandom } from '../../../shared/rollout/delete-policy.js';
import { planMachineSet, viewMachineSet } from '../../../shared/rollout/machineset.js';
import { machineReadiness } from '../../../shared/rollout/readiness.js';
import { observationOf, observedCounts } from '../../../shared/rollout/observe.js';
import { FollowUpType } from '../../../events/followup.js';
import { DAY, iso, machine, ms, T0 } from './helpers.js';

const NOW = T0 + 10 * DAY;

// ---- readiness -------------------------------------------------------------------------------------

test('readiness: a visible Node decides; its Ready transition time starts minReadySeconds', () => {
  const m = machine('m', undefined, { phase: 'Ready' });
  assert.equal(machineReadiness(m, { node: { ready: false } }, 0, NOW), { ready: false, available: false });
  assert.equal(machineReadiness(m, { node: { ready: true, readySince: iso(NOW - 5000) } }, 0, NOW), {
    ready: true,
    available: true,
    readyAt: NOW - 5000,
  });
  assert.equal(machineReadiness(m, { node: { ready: true, readySince: iso(NOW - 5000) } }, 10, NOW), {
    ready: true,
    available: false,
    readyAt: NOW - 5000,
    availableAt: NOW + 5000,
  });
  assert.equal(machineReadiness(m, { node: { ready: true, readySince: iso(NOW - 11000) } }, 10, NOW).available, true);
  // Exactly minReadySeconds is not yet enough (Kubernetes compares with Before).
  assert.equal(machineReadiness(m, { node: { ready: true, readySince: iso(NOW - 10000) } }, 10, NOW).available, false);
});

test('readiness: without a visible Node, providerStatus.phase "Ready" stands in', () => {
  assert.equal(machineReadiness(machine('m', undefined, { phase: 'Ready' }), undefined, 0, NOW), { ready: true, available: true });
  assert.equal(machineReadiness(machine('m', undefined, { phase: 'Provisioning' }), undefined, 0, NOW).ready, false);
  assert.equal(machineReadiness(machine('m', undefined, { phase: 'Ready' }), { node: null }, 0, NOW).ready, true);
  // readySince from the caller, else lastUpdated; neither → never available with minReadySeconds.
  const m = machine('m', undefined, { phase: 'Ready' });
  assert.is(machineReadiness(m, { readySince: iso(NOW - 60_000) }, 30, NOW).available, true);
  assert.is(machineReadiness(m, undefined, 30, NOW).available, false);
  m.status!.lastUpdated = iso(NOW - 60_000);
  assert.is(machineReadiness(m, undefined, 30, NOW).available, true);
});

// ---- readiness from state (observe.ts) ------------------------------------------------------------

const withStatus = (m: ReturnType<typeof machine>, status: Record<string, unknown>) => {
  m.status = { ...(m.status ?? {}), ...status };
  return m;
};
const vmiReady = (status: 'True' | 'False', at: number) => ({ type: 'VMIReady', status, lastTransitionTime: iso(at) });
const nodeRef = { apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'node-uid' };
const nodeReady = (status: string, at: number) => [{ type: 'Ready', status, lastTransitionTime: iso(at) }];

test('observe: with nodeRef, the Node Ready condition decides, since its transition', () => {
  // VMIReady True and phase Ready do not count once a Node is linked.
  const base = () =>
    withStatus(machine('m', undefined, { phase: 'Ready' }), {
      nodeRef,
      providerStatus: { phase: 'Ready', conditions: [vmiReady('True', NOW - 600_000)] },
    });
  const ready = withStatus(base(), { conditions: nodeReady('True', NOW - 20_000) });
  assert.equal(machineReadiness(ready, observationOf(ready), 10, NOW), { ready: true, available: true, readyAt: NOW - 20_000 });
  assert.equal(machineReadiness(ready, observationOf(ready), 30, NOW), {
    ready: true,
    available: false,
    readyAt: NOW - 20_000,
    availableAt: NOW + 10_000,
  });
  const notReady = withStatus(base(), { conditions: nodeReady('False', NOW - 5_000) });
  assert.equal(machineReadiness(notReady, observationOf(notReady), 0, NOW), { ready: false, available: false });
  const unknown = withStatus(base(), { conditions: nodeReady('Unknown', NOW - 5_000) });
  assert.is(machineReadiness(unknown, observationOf(unknown), 0, NOW).ready, false);
  // Linked, but the node function has not mirrored the Ready condition yet: not ready.
  assert.is(machineReadiness(base(), observationOf(base()), 0, NOW).ready, false);
});

test('observe: without nodeRef, VMIReady decides, since its transition; the emitted record is never read', () => {
  const m = withStatus(machine('m', undefined, { phase: 'Ready' }), {
    providerStatus: {
      phase: 'Ready',
      conditions: [vmiReady('False', NOW - 5_000)],
      emitted: { [FollowUpType.ready]: { key: 'vmi-uid', at: iso(NOW - 600_000) } },
    },
  });
  assert.equal(machineReadiness(m, observationOf(m), 0, NOW), { ready: false, available: false }, 'VMIReady=False beats phase and record');
  const r = withStatus(machine('r', undefined, { phase: 'Provisioning' }), {
    providerStatus: { phase: 'Provisioning', conditions: [vmiReady('True', NOW - 40_000)] },
  });
  assert.equal(machineReadiness(r, observationOf(r), 30, NOW), { ready: true, available: true, readyAt: NOW - 40_000 });
  // A sink outage releases the emission claim: the record disappears, readiness does not change.
  const noRecord = withStatus(machine('n', undefined, { phase: 'Ready' }), {
    providerStatus: { phase: 'Ready', conditions: [vmiReady('True', NOW - 40_000)] },
  });
  assert.equal(machineReadiness(noRecord, observationOf(noRecord), 30, NOW), { ready: true, available: true, readyAt: NOW - 40_000 });
});

test('observe: a Machine written before conditions falls back to its phase', () => {
  const legacy = machine('m', undefined, { phase: 'Ready' });
  assert.equal(observationOf(legacy), { node: null });
  assert.is(machineReadiness(legacy, observationOf(legacy), 0, NOW).ready, true);
});

test('observedCounts: ready and available per MachineSet from the Machines alone', () => {
  const s = ms('workers-abc', 3, { minReadySeconds: 30 });
  const a = withStatus(machine('a', s, {}), { providerStatus: { conditions: [vmiReady('True', NOW - 60_000)] } });
  const b = withStatus(machine('b', s, {}), { providerStatus: { conditions: [vmiReady('True', NOW - 10_000)] } });
  const c = withStatus(machine('c', s, {}), { nodeRef, conditions: nodeReady('False', NOW - 60_000) });
  assert.equal(observedCounts([s], [a, b, c], NOW)['workers-abc'], { replicas: 3, ready: 2, available: 1, terminating: 0 });
});

// ---- planner ---------------------------------------------------------------------------------------

const set = ms('workers-abc', 3);
const n = (count: number, opts: Parameters<typeof machine>[2] = {}) =>
  Array.from({ length: count }, (_, i) => machine(`workers-abc-${i}`, set, { phase: 'Ready', ...opts }));

test('too few Machines: create the difference from the template with generateName and a controller reference', () => {
  const plan = planMachineSet({ machineSet: set, machines: n(1), now: NOW });
  assert.is(plan.create.length, 2);
  assert.equal(plan.delete, []);
  const [m] = plan.create;
  assert.equal(m, {
    apiVersion: 'cluster.k8s.io/v1alpha1',
    kind: 'Machine',
    metadata: {
      labels: { app: 'workers', 'machine-template-hash': 'workers-abc' },
      generateName: 'workers-abc-',
      namespace: 'kube-system',
      ownerReferences: [
        {
          apiVersion: 'cluster.k8s.io/v1alpha1',
          kind: 'MachineSet',
          name: 'workers-abc',
          uid: 'workers-abc-uid',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: { providerSpec: { value: {} } },
  });
  assert.is.not(plan.create[0].spec, plan.create[1].spec);
  assert.equal(plan.status, { replicas: 1, fullyLabeledReplicas: 1, readyReplicas: 1, availableReplicas: 1, observedGeneration: 0 });
});

test('template identity fields (a fixed name) are not stamped on each Machine', () => {
  const s = structuredClone(set);
  s.spec.template!.metadata = { ...s.spec.template!.metadata, name: 'fixed', annotations: { a: 'b' } } as never;
  const [m] = planMachineSet({ machineSet: s, machines: [], now: NOW }).create;
  assert.not.ok('name' in m.metadata);
  assert.equal(m.metadata.annotations, { a: 'b' });
});

test('too many: delete the excess by policy; Machines being deleted no longer count', () => {
  const machines = [...n(4), machine('gone', set, { deleting: true })];
  const s = { ...set, spec: { ...set.spec, deletePolicy: 'Newest' } };
  machines[2].metadata.creationTimestamp = iso(NOW - 1000);
  const plan = planMachineSet({ machineSet: s, machines, now: NOW });
  assert.equal(
    plan.delete.map((m) => m.metadata.name),
    ['workers-abc-2'],
  );
  assert.is(plan.terminating, 1);
  assert.is(plan.status!.replicas, 4);
});

test('the right number of Machines: nothing to do', () => {
  const plan = planMachineSet({ machineSet: set, machines: n(3), now: NOW, random: seededRandom(1) });
  assert.equal([plan.create.length, plan.delete.length, plan.adopt.length], [0, 0, 0]);
});

test('an unsupported delete policy is an error only when deleting', () => {
  const s = { ...set, spec: { ...set.spec, deletePolicy: 'Biggest' } };
  assert.is(planMachineSet({ machineSet: s, machines: n(1), now: NOW }).error, undefined);
  const plan = planMachineSet({ machineSet: s, machines: n(5), now: NOW });
  assert.is(plan.error, `Unsupported delete policy "Biggest". Must be one of 'Random', 'Newest', or 'Oldest'`);
  assert.equal(plan.delete, []);
});

test("others' Machines and non-matching labels are ignored; matching orphans are adopted", () => {
  const other = ms('other', 1);
  const foreign = machine('foreign', other, { labels: { app: 'workers', 'machine-template-hash': 'workers-abc' } });
  const orphan = machine('orphan', undefined, { labels: { app: 'workers', 'machine-template-hash': 'workers-abc' }, phase: 'Ready' });
  const stranger = machine('stranger', undefined, { labels: { app: 'else' } });
  const otherNs = machine('elsewhere', undefined, { labels: { app: 'workers', 'machine-template-hash': 'workers-abc' } });
  otherNs.metadata.namespace = 'default';
  const plan = planMachineSet({ machineSet: set, machines: [...n(1), foreign, orphan, stranger, otherNs], now: NOW });
  assert.equal(
    plan.adopt.map((a) => a.machine.metadata.name),
    ['orphan'],
  );
  assert.is(plan.adopt[0].ownerReference.uid, 'workers-abc-uid');
  assert.is(plan.status!.replicas, 2);
  assert.is(plan.create.length, 1);
});

test('status: fully labelled, ready and available with minReadySeconds; requeue when one is about to be available', () => {
  const s = ms('workers-abc', 3, { minReadySeconds: 60 });
  s.metadata.generation = 4;
  const machines = n(3);
  machines[0].metadata.labels = { app: 'workers', 'machine-template-hash': 'workers-abc', extra: '1' };
  machines[2].status!.providerStatus = { phase: 'Provisioning' };
  const observations = { 'workers-abc-0': { readySince: iso(NOW - 120_000) }, 'workers-abc-1': { readySince: iso(NOW - 30_000) } };
  const plan = planMachineSet({ machineSet: s, machines, observations, now: NOW });
  assert.equal(plan.status, { replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 2, availableReplicas: 1, observedGeneration: 4 });
  assert.is(plan.requeueAfterSeconds, 31);
  const partial = structuredClone(machines);
  partial[0].metadata.labels = { app: 'workers', 'machine-template-hash': 'workers-abc' };
  const s2 = structuredClone(s);
  s2.spec.template!.metadata!.labels = { ...s2.spec.template!.metadata!.labels, role: 'w' };
  assert.is(viewMachineSet(s2, partial, observations, NOW).status.fullyLabeledReplicas, 0);
});

test('an invalid MachineSet plans nothing', () => {
  const s = structuredClone(set);
  s.spec.selector = {};
  const plan = planMachineSet({ machineSet: s, machines: n(0), now: NOW });
  assert.is(plan.issues.length, 1);
  assert.equal([plan.create.length, plan.delete.length], [0, 0]);
  assert.is(plan.status, undefined);
});

test('replicas absent means 1 (ReplicaSet / cluster-api defaulting)', () => {
  const s = structuredClone(set);
  delete s.spec.replicas;
  assert.is(planMachineSet({ machineSet: s, machines: [], now: NOW }).create.length, 1);
});

test('scale 0 → 5 → 2 → 0 on the MachineSet level', () => {
  let machines: ReturnType<typeof machine>[] = [];
  let seq = 0;
  for (const replicas of [0, 5, 2, 0]) {
    const s = { ...set, spec: { ...set.spec, replicas } };
    const plan = planMachineSet({ machineSet: s, machines, now: NOW, random: seededRandom(replicas) });
    for (const c of plan.create) machines.push(machine(`${c.metadata.generateName}${seq++}`, set, { phase: 'Ready' }));
    const gone = new Set(plan.delete);
    machines = machines.filter((m) => !gone.has(m));
    assert.is(machines.length, replicas);
  }
});

test.run();
