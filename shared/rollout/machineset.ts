/**
 * One reconcile step of a MachineSet (machine-controller's `machineset/controller.go` and
 * `status.go`, reference §8.5), as a pure function: which Machines are its own, which to create,
 * adopt or delete, and the status to write. The caller does the I/O.
 */
import { controllerRef } from '../kube/owner-reference.js';
import { apiVersionOf, MACHINE, MACHINE_SET } from '../kube/paths.js';
import { machinesToDelete, resolveDeletePolicy } from './delete-policy.js';
import { hasAllLabels, matchesParsed, parseSelector } from './labels.js';
import { machineReadiness, type MachineObservation } from './readiness.js';
import { msReplicas, type Machine, type MachineSet, type MachineSetStatus, type MachineToCreate, type OwnerReference } from './types.js';
import { validateMachineSet, type FieldIssue } from './validate.js';

/** Observations by Machine name (a Map or a plain record). */
export type Observations = ReadonlyMap<string, MachineObservation> | Readonly<Record<string, MachineObservation>>;

function observationOf(obs: Observations | undefined, name: string): MachineObservation | undefined {
  if (!obs) return undefined;
  return obs instanceof Map ? obs.get(name) : (obs as Record<string, MachineObservation>)[name];
}

/** `metav1.NewControllerRef(ms, MachineSet)`: what every Machine of the set carries. */
export function machineSetControllerRef(ms: MachineSet): OwnerReference {
  return controllerRef({ apiVersion: apiVersionOf(MACHINE_SET), kind: MACHINE_SET.kind }, ms.metadata);
}

/** The controller ownerReference of an object, if any (`metav1.GetControllerOf`). */
export function controllerOf(obj: { metadata: { ownerReferences?: ReadonlyArray<{ controller?: boolean }> } }) {
  return obj.metadata.ownerReferences?.find((o) => o.controller === true) as OwnerReference | undefined;
}

/** `IsControlledBy`, by uid; by kind and name when either side has no uid (hand-made objects in tests). */
function isControlledBy(m: Machine, ms: MachineSet): boolean {
  const ref = controllerOf(m);
  if (!ref) return false;
  if (ref.uid && ms.metadata.uid) return ref.uid === ms.metadata.uid;
  return ref.kind === MACHINE_SET.kind && ref.name === ms.metadata.name;
}

/** Template metadata fields that identify one object and must not be stamped onto each Machine. */
const PER_OBJECT_META = [
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generateName',
  'ownerReferences',
  'creationTimestamp',
  'deletionTimestamp',
  'generation',
  'managedFields',
  'selfLink',
];

/**
 * `createMachine`: a Machine from the template with `generateName: <ms>-`, the MachineSet's
 * namespace and its controller reference. Unlike machine-controller we drop identity fields a
 * template should not carry (a fixed `name` would make every create after the first fail).
 */
export function newMachineFromTemplate(ms: MachineSet): MachineToCreate {
  const meta = structuredClone(ms.spec.template?.metadata ?? {}) as Record<string, unknown>;
  for (const k of PER_OBJECT_META) delete meta[k];
  return {
    apiVersion: apiVersionOf(MACHINE),
    kind: 'Machine',
    metadata: {
      ...meta,
      generateName: `${ms.metadata.name}-`,
      namespace: ms.metadata.namespace ?? 'default',
      ownerReferences: [machineSetControllerRef(ms)],
    },
    spec: structuredClone(ms.spec.template?.spec ?? {}),
  };
}

/** What a MachineSet sees of the Machines in its namespace. */
export interface MachineSetView {
  /** Its live Machines: controlled by it (or orphans to adopt), matching, not being deleted. */
  owned: Machine[];
  /** Orphans among `owned` that need its controller reference. */
  orphans: Machine[];
  /** Its Machines being deleted (excluded from `owned` and from the status, as upstream). */
  terminating: Machine[];
  /** The status these Machines give (observedGeneration = the MachineSet's generation). */
  status: Required<MachineSetStatus>;
  /** Seconds until the next ready Machine becomes available, if one is waiting for minReadySeconds. */
  requeueAfterSeconds?: number;
}

/**
 * Filters and counts, as `reconcile` + `calculateStatus` do: a Machine controlled by someone else,
 * being deleted, or not matching the selector is not the set's; a matching orphan is adopted.
 * Assumes a valid selector (see `validateMachineSet`); an invalid one matches nothing.
 */
export function viewMachineSet(
  ms: MachineSet,
  machines: readonly Machine[],
  observations: Observations | undefined,
  now: number,
): MachineSetView {
  const selector = parseSelector(ms.spec.selector);
  const minReady = ms.spec.minReadySeconds ?? 0;
  const namespace = ms.metadata.namespace ?? 'default';
  const owned: Machine[] = [];
  const orphans: Machine[] = [];
  const terminating: Machine[] = [];
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  let nextAvailable: number | undefined;
  for (const m of machines) {
    if ((m.metadata.namespace ?? namespace) !== namespace) continue;
    const ref = controllerOf(m);
    if (ref && !isControlledBy(m, ms)) continue;
    if (m.metadata.deletionTimestamp) {
      if (ref) terminating.push(m);
      continue;
    }
    if (!matchesParsed(selector, m.metadata.labels)) continue;
    if (!ref) orphans.push(m);
    owned.push(m);
    if (hasAllLabels(ms.spec.template?.metadata?.labels, m.metadata.labels)) fullyLabeled++;
    const r = machineReadiness(m, observationOf(observations, m.metadata.name), minReady, now);
    if (r.ready) ready++;
    if (r.available) available++;
    if (r.availableAt !== undefined) nextAvailable = Math.min(nextAvailable ?? Infinity, r.availableAt);
  }
  const status = {
    replicas: owned.length,
    fullyLabeledReplicas: fullyLabeled,
    readyReplicas: ready,
    availableReplicas: available,
    observedGeneration: ms.metadata.generation ?? 0,
  };
  const view: MachineSetView = { owned, orphans, terminating, status };
  // Strictly after availableAt counts (Kubernetes' Before), hence the extra second.
  if (nextAvailable !== undefined) view.requeueAfterSeconds = Math.max(1, Math.ceil((nextAvailable - now) / 1000) + 1);
  return view;
}

export interface MachineSetPlanInput {
  machineSet: MachineSet;
  /** The Machines of the MachineSet's namespace; the planner picks its own. */
  machines: readonly Machine[];
  /** Node lookups and ready times, by Machine name. */
  observations?: Observations;
  /** The clock (epoch ms or Date): ages for the delete policies, minReadySeconds. */
  now: number | Date;
  /** Random's tie-breaker; defaults to Math.random. */
  random?: () => number;
}

export interface MachineSetPlan {
  /** Validation problems; when present nothing else is planned and `status` is absent. */
  issues: FieldIssue[];
  /** An unsupported delete policy, reported when Machines would have to be deleted. */
  error?: string;
  create: MachineToCreate[];
  delete: Machine[];
  adopt: { machine: Machine; ownerReference: OwnerReference }[];
  /** Machines of the set being deleted: they still exist, but no longer count. */
  terminating: number;
  status?: Required<MachineSetStatus>;
  requeueAfterSeconds?: number;
}

/**
 * `syncReplicas` + status: diff = replicas − live Machines; create the shortfall from the
 * template, or delete the excess in delete-policy order. The status describes the Machines as
 * found (before these actions), as machine-controller computes it.
 */
export function planMachineSet(input: MachineSetPlanInput): MachineSetPlan {
  const { machineSet: ms } = input;
  const now = input.now instanceof Date ? input.now.getTime() : input.now;
  const issues = validateMachineSet(ms);
  if (issues.length) return { issues, create: [], delete: [], adopt: [], terminating: 0 };
  const view = viewMachineSet(ms, input.machines, input.observations, now);
  const plan: MachineSetPlan = {
    issues: [],
    create: [],
    delete: [],
    adopt: view.orphans.map((machine) => ({ machine, ownerReference: machineSetControllerRef(ms) })),
    terminating: view.terminating.length,
    status: view.status,
  };
  if (view.requeueAfterSeconds !== undefined) plan.requeueAfterSeconds = view.requeueAfterSeconds;
  const diff = msReplicas(ms) - view.owned.length;
  if (diff > 0) {
    for (let i = 0; i < diff; i++) plan.create.push(newMachineFromTemplate(ms));
  } else if (diff < 0) {
    const policy = resolveDeletePolicy(ms.spec.deletePolicy);
    if (!policy.ok) plan.error = policy.error;
    else plan.delete = machinesToDelete(view.owned, -diff, policy.policy, { now, ...(input.random ? { random: input.random } : {}) });
  }
  return plan;
}
