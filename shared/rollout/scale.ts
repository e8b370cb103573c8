/**
 * The Deployment controller's `scale`, which machine-controller runs for a paused (or deleted)
 * MachineDeployment: size changes only, no rollout progress. During an unfinished rollout a size
 * change is spread over the active MachineSets in proportion to their sizes, so scaling neither
 * hastens nor reverses the rollout.
 */
import { ANN_MD_DESIRED_REPLICAS, ANN_MD_MAX_REPLICAS } from '../constants.js';
import { ROLLING_UPDATE } from './defaults.js';
import { maxSurgeOf } from './intstr.js';
import type { DefaultedMachineDeployment } from './types.js';
import { active, byCreation, bySizeNewer, bySizeOlder, scaleMachineSet, scaleOperation, sumReplicas, type WorkingSet } from './working.js';

const intOf = (v: string | undefined): number | undefined =>
  v !== undefined && /^[+-]?[0-9]+$/.test(v) ? Number.parseInt(v, 10) : undefined;

/**
 * `FindOneActiveOrLatest`: the only active set, or the newest when none is active; undefined when
 * several are active (then sizes must be split proportionally).
 */
export function findOneActiveOrLatest(newSet: WorkingSet | undefined, oldSets: readonly WorkingSet[]): WorkingSet | undefined {
  if (!newSet && oldSets.length === 0) return undefined;
  const newestFirst = byCreation(oldSets).reverse();
  const all = active([...newestFirst, newSet]);
  if (all.length === 0) return newSet ?? newestFirst[0];
  return all.length === 1 ? all[0] : undefined;
}

/** `IsSaturated`: the new set has, wants (by annotation) and has available all the replicas. */
export function isSaturated(md: DefaultedMachineDeployment, w: WorkingSet | undefined): boolean {
  if (!w) return false;
  const desired = intOf(w.annotations[ANN_MD_DESIRED_REPLICAS]);
  const r = md.spec.replicas;
  return w.replicas === r && desired === r && w.available === r;
}

/**
 * `getMachineSetFraction`: how many replicas a set gains (or loses) to keep its share when the
 * MD's size moves from the `max-replicas` it was last scaled for to replicas + maxSurge.
 * Without the annotation the MD's reported status.replicas stands in, as upstream; a zero
 * denominator (Go would divide by zero) yields 0 and leaves the change to the leftover rule.
 */
function fraction(w: WorkingSet, md: DefaultedMachineDeployment): number {
  if (md.spec.replicas === 0) return -w.replicas;
  const target = md.spec.replicas + maxSurgeOf(md);
  const annotated = intOf(w.annotations[ANN_MD_MAX_REPLICAS]) ?? md.status?.replicas ?? 0;
  if (annotated <= 0) return 0;
  return Math.round((w.replicas * target) / annotated) - w.replicas;
}

/** `GetProportion`: the set's fraction, bounded by what is still to be added (or removed). */
function proportion(w: WorkingSet, md: DefaultedMachineDeployment, toAdd: number, added: number): number {
  if (w.replicas === 0 || toAdd === 0 || toAdd === added) return 0;
  const f = fraction(w, md);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(f, allowed) : Math.max(f, allowed);
}

/** `scale`: resizes the working sets in place. */
export function scaleDeployment(md: DefaultedMachineDeployment, newSet: WorkingSet | undefined, oldSets: readonly WorkingSet[]): void {
  const replicas = md.spec.replicas;
  const only = findOneActiveOrLatest(newSet, oldSets);
  if (only) {
    scaleMachineSet(only, replicas, md);
    return;
  }
  // The new set is saturated, e.g. after adopting old sets: retire the old ones.
  if (isSaturated(md, newSet)) {
    for (const old of active(oldSets)) scaleMachineSet(old, 0, md);
    return;
  }
  if (md.spec.strategy.type !== ROLLING_UPDATE) return;
  let sets = active([...oldSets, newSet]);
  const allowedSize = replicas > 0 ? replicas + maxSurgeOf(md) : 0;
  const toAdd = allowedSize - sumReplicas(sets);
  // Scaling up favours the larger and newer sets, scaling down the larger and older ones.
  if (toAdd > 0) sets = bySizeNewer(sets);
  else if (toAdd < 0) sets = bySizeOlder(sets);
  let added = 0;
  const sizes = new Map<WorkingSet, number>();
  for (const w of sets) {
    const p = toAdd !== 0 ? proportion(w, md, toAdd, added) : 0;
    sizes.set(w, w.replicas + p);
    added += p;
  }
  sets.forEach((w, i) => {
    let size = sizes.get(w)!;
    // Rounding leftovers go to the first (largest) set.
    if (i === 0 && toAdd !== 0) size = Math.max(0, size + toAdd - added);
    // The operation, not scaleMachineSet: annotations are refreshed even without a size change.
    scaleOperation(w, size, md);
  });
}
