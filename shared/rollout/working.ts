/**
 * The rollout planner's in-memory MachineSets. machine-controller mutates its cached objects as
 * it scales them within one reconcile (later steps see earlier steps' replicas); we do the same
 * on copies and turn the differences into actions at the end.
 */
import { replicaAnnotationValues, setReplicasAnnotations } from './revisions.js';
import { msReplicas, type DefaultedMachineDeployment, type MachineSet } from './types.js';

/**
 * Fresher counts for one MachineSet than its status, e.g. from listing its Machines.
 * `terminating` (its Machines being deleted) is optional; see RolloutInput.observed.
 */
export interface MachineSetObservation {
  replicas: number;
  ready: number;
  available: number;
  terminating?: number;
}

export interface WorkingSet {
  /** The MachineSet as given (for a new one: as it will be created). */
  readonly ms: MachineSet;
  readonly name: string;
  /** True for the MachineSet this step creates. */
  readonly created: boolean;
  /** spec.replicas, updated as the step scales. */
  replicas: number;
  /** metadata.annotations, updated as the step annotates. */
  annotations: Record<string, string>;
  minReadySeconds: number;
  // Observed — what the MachineSet reports (or the caller observed); not changed by scaling.
  readonly statusReplicas: number;
  readonly ready: number;
  readonly available: number;
  readonly terminating: number;
  /** The counts came from the caller's observation (e.g. listed Machines), not the status. */
  readonly observed: boolean;
  /** Epoch ms; +Infinity for one not yet created (it is the newest). */
  readonly createdAt: number;
  readonly deleting: boolean;
  readonly generation: number;
  readonly observedGeneration: number;
}

/** A working copy of `ms`, with counts from `observed` when given, else from its status. */
export function toWorking(ms: MachineSet, observed: MachineSetObservation | undefined, created = false): WorkingSet {
  const t = ms.metadata.creationTimestamp ? Date.parse(ms.metadata.creationTimestamp) : Number.NaN;
  return {
    ms,
    name: ms.metadata.name,
    created,
    replicas: msReplicas(ms),
    annotations: { ...(ms.metadata.annotations ?? {}) },
    minReadySeconds: ms.spec.minReadySeconds ?? 0,
    statusReplicas: observed?.replicas ?? ms.status?.replicas ?? 0,
    ready: observed?.ready ?? ms.status?.readyReplicas ?? 0,
    available: observed?.available ?? ms.status?.availableReplicas ?? 0,
    terminating: observed?.terminating ?? 0,
    observed: observed !== undefined,
    createdAt: created ? Infinity : Number.isNaN(t) ? 0 : t,
    deleting: Boolean(ms.metadata.deletionTimestamp),
    generation: ms.metadata.generation ?? 0,
    observedGeneration: ms.status?.observedGeneration ?? 0,
  };
}

const byName = (a: WorkingSet, b: WorkingSet) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** `MachineSetsByCreationTimestamp`: oldest first, name as tie-breaker. */
export function byCreation(sets: readonly WorkingSet[]): WorkingSet[] {
  return [...sets].sort((a, b) => (a.createdAt !== b.createdAt ? a.createdAt - b.createdAt : byName(a, b)));
}

/** Kubernetes' `ReplicaSetsBySizeNewer`: largest first; among equals the newer, then the later name. */
export function bySizeNewer(sets: readonly WorkingSet[]): WorkingSet[] {
  return [...sets].sort((a, b) => b.replicas - a.replicas || b.createdAt - a.createdAt || byName(b, a));
}

/** Kubernetes' `ReplicaSetsBySizeOlder`: largest first; among equals the older, then the earlier name. */
export function bySizeOlder(sets: readonly WorkingSet[]): WorkingSet[] {
  return [...sets].sort((a, b) => b.replicas - a.replicas || a.createdAt - b.createdAt || byName(a, b));
}

/** `FilterActiveMachineSets`: those with replicas > 0. */
export const active = (sets: readonly (WorkingSet | undefined)[]): WorkingSet[] =>
  sets.filter((s): s is WorkingSet => s !== undefined && s.replicas > 0);

/** Σ spec.replicas. */
export const sumReplicas = (sets: readonly WorkingSet[]) => sets.reduce((n, s) => n + s.replicas, 0);
/** Σ status.replicas. */
export const sumStatusReplicas = (sets: readonly WorkingSet[]) => sets.reduce((n, s) => n + s.statusReplicas, 0);
/** Σ readyReplicas. */
export const sumReady = (sets: readonly WorkingSet[]) => sets.reduce((n, s) => n + s.ready, 0);
/** Σ availableReplicas. */
export const sumAvailable = (sets: readonly WorkingSet[]) => sets.reduce((n, s) => n + s.available, 0);
/** Σ terminating Machines. */
export const sumTerminating = (sets: readonly WorkingSet[]) => sets.reduce((n, s) => n + s.terminating, 0);

/**
 * Machines that exist or are about to, for the surge bound. With observed counts, per set the
 * larger of its size and its live Machines — a set just scaled down still has the Machines it is
 * about to delete, one just scaled up is about to create them — plus those being deleted. Without
 * observations, Σ spec.replicas: machine-controller's count (a status may be stale either way).
 */
export const sumExisting = (sets: readonly WorkingSet[]) =>
  sets.reduce((n, s) => n + (s.observed ? Math.max(s.replicas, s.statusReplicas) + s.terminating : s.replicas), 0);

/**
 * Available Machines that will still exist once every set has its spec size: min(available,
 * replicas) per set. A set just scaled down may still report its old Machines as available;
 * counting them would let the next step scale down again before they are gone (a stale-status
 * guard that only ever makes scale-down more cautious than upstream).
 */
export const sumSurvivingAvailable = (sets: readonly WorkingSet[]) => sets.reduce((n, s) => n + Math.min(s.available, s.replicas), 0);

/**
 * `scaleMachineSetOperation`: set the size and refresh the desired/max-replicas annotations
 * when either differs. Returns whether anything changed.
 */
export function scaleOperation(w: WorkingSet, newScale: number, md: DefaultedMachineDeployment): boolean {
  const { desired, max } = replicaAnnotationValues(md);
  const ann = setReplicasAnnotations(w.annotations, desired, max);
  if (w.replicas === newScale && !ann.changed) return false;
  w.replicas = newScale;
  w.annotations = ann.annotations;
  return true;
}

/** `scaleMachineSet`: a no-op when the size is already right, else `scaleOperation`. */
export function scaleMachineSet(w: WorkingSet, newScale: number, md: DefaultedMachineDeployment): boolean {
  if (w.replicas === newScale) return false;
  return scaleOperation(w, newScale, md);
}
