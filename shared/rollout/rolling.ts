/**
 * One reconcile step of a MachineDeployment as a pure planner (machine-controller's
 * `controller.go`, `sync.go`, `rolling.go`; reference §8.4): given the MD and its MachineSets,
 * which MachineSets to create, resize, annotate or delete, and the MD's status.
 *
 * Differences from upstream, each only in how a step is cut: where machine-controller updates
 * the new set's annotations and returns to wait for the next event, we plan the annotation update
 * and the scaling in one step; and scale-down counts an old set's available Machines only up to
 * its current size (see `sumSurvivingAvailable`), so a stale status cannot over-shrink.
 */
import { ANN_MD_REVISION } from '../constants.js';
import { withDefaults } from './defaults.js';
import { equalIgnoreHash } from './hash.js';
import { maxUnavailableOf } from './intstr.js';
import { buildNewMachineSet, newMSNewReplicas, templateHashOf } from './new-machineset.js';
import { maxRevision, setNewMachineSetAnnotations } from './revisions.js';
import { scaleDeployment } from './scale.js';
import type { DefaultedMachineDeployment, MachineDeployment, MachineDeploymentStatus, MachineSet } from './types.js';
import { validateMachineDeployment, type FieldIssue } from './validate.js';
import {
  byCreation,
  scaleMachineSet,
  sumAvailable,
  sumReady,
  sumReplicas,
  sumStatusReplicas,
  sumSurvivingAvailable,
  toWorking,
  type MachineSetObservation,
  type WorkingSet,
} from './working.js';

export type { MachineSetObservation } from './working.js';

export interface RolloutInput {
  /** The MachineDeployment as read; defaults are applied here. */
  md: MachineDeployment;
  /** The MachineSets it controls (the caller filters by controller reference and adopts orphans). */
  machineSets: readonly MachineSet[];
  /**
   * Fresher counts per MachineSet name than their statuses (e.g. from listing Machines). With
   * `terminating` reported, Machines being deleted count towards the surge bound.
   */
  observed?: Readonly<Record<string, MachineSetObservation>>;
}

/** What to do, in order: creates and scale-ups before scale-downs and deletes. */
export type RolloutAction =
  | { type: 'createMachineSet'; machineSet: MachineSet }
  | {
      type: 'updateMachineSet';
      name: string;
      /** Present when the size changes. */
      replicas?: { from: number; to: number };
      /** Annotations to set (merge), present when any changes. */
      annotations?: Record<string, string>;
      minReadySeconds?: number;
    }
  | { type: 'deleteMachineSet'; name: string; uid?: string }
  | { type: 'setDeploymentRevision'; revision: string };

export interface RolloutPlan {
  /** Webhook validation problems; when present nothing is planned and `status` is absent. */
  issues: FieldIssue[];
  /** `rollout` (RollingUpdate) or `scale` (paused or being deleted: sizes only). */
  mode: 'rollout' | 'scale' | 'invalid';
  actions: RolloutAction[];
  status?: MachineDeploymentStatus;
  /** The name of the MachineSet serving the current template, existing or planned. */
  newMachineSet?: string;
  /** The MD's revision after this step. */
  revision?: string;
  /** All replicas updated and available, nothing old left running (`DeploymentComplete`). */
  complete: boolean;
  /** A MachineSet of the computed name exists with another template: status.collisionCount was raised. */
  collision?: boolean;
}

/** Plans one reconcile step. Pure: inputs are not modified. */
export function planRollout(input: RolloutInput): RolloutPlan {
  const issues = validateMachineDeployment(input.md);
  if (issues.length) return { issues, mode: 'invalid', actions: [], complete: false };
  const md = withDefaults(input.md);
  const mode = md.spec.paused || md.metadata.deletionTimestamp ? 'scale' : 'rollout';
  const sets = byCreation(input.machineSets.map((ms) => toWorking(ms, input.observed?.[ms.metadata.name])));
  // `FindNewMachineSet`: the oldest set with the MD's template.
  let newSet = sets.find((w) => equalIgnoreHash(w.ms.spec.template, md.spec.template));
  const oldSets = sets.filter((w) => w !== newSet);
  const newRevision = String(maxRevision(oldSets.map((w) => w.ms)) + 1);
  let revision: string | undefined;
  let collisionCount = md.status?.collisionCount;

  if (newSet) {
    newSet.annotations = setNewMachineSetAnnotations(md, newSet.annotations, newRevision, true).annotations;
    newSet.minReadySeconds = md.spec.minReadySeconds;
    revision = newSet.annotations[ANN_MD_REVISION];
  } else if (mode === 'rollout') {
    const ms = buildNewMachineSet(md, templateHashOf(md), newRevision);
    if (sets.some((w) => w.name === ms.metadata.name)) {
      // Same name, other template: a hash collision. Kubernetes' answer: bump the count (it is
      // hashed in) and try again next step; the existing set is left alone.
      collisionCount = (collisionCount ?? 0) + 1;
      const status = computeStatus(md, sets, undefined, collisionCount);
      return { issues: [], mode, actions: [], status, complete: false, collision: true };
    }
    newSet = toWorking(ms, undefined, true);
    newSet.replicas = newMSNewReplicas(md, [...oldSets, newSet], newSet);
    revision = newRevision;
  }

  const all = newSet ? [...oldSets, newSet] : oldSets;
  const deletes: WorkingSet[] = [];
  let status: MachineDeploymentStatus;
  let complete: boolean;
  if (mode === 'scale' || !newSet) {
    scaleDeployment(md, newSet, oldSets);
    status = computeStatus(md, all, newSet, collisionCount);
    complete = isComplete(md, status);
  } else {
    reconcileNewMachineSet(md, all, newSet);
    reconcileOldMachineSets(md, all, oldSets, newSet);
    status = computeStatus(md, all, newSet, collisionCount);
    complete = isComplete(md, status);
    if (complete) deletes.push(...cleanupCandidates(md, oldSets));
  }

  const plan: RolloutPlan = { issues: [], mode, actions: toActions(md, all, newSet, deletes, revision), status, complete };
  if (newSet) plan.newMachineSet = newSet.name;
  if (revision !== undefined) plan.revision = revision;
  return plan;
}

/** `reconcileNewMachineSet`: shrink a too-large new set, else grow it as far as the surge allows. */
function reconcileNewMachineSet(md: DefaultedMachineDeployment, all: WorkingSet[], newSet: WorkingSet): void {
  const replicas = md.spec.replicas;
  if (newSet.replicas === replicas) return;
  if (newSet.replicas > replicas) scaleMachineSet(newSet, replicas, md);
  else scaleMachineSet(newSet, newMSNewReplicas(md, all, newSet), md);
}

/**
 * `reconcileOldMachineSets`: shrink old sets by at most total − (replicas − maxUnavailable) −
 * (the new set's unavailable replicas) — first their unhealthy replicas, oldest set first, then
 * `scaleDownOldMachineSetsForRollingUpdate` while availability stays above the minimum.
 */
function reconcileOldMachineSets(md: DefaultedMachineDeployment, all: WorkingSet[], oldSets: WorkingSet[], newSet: WorkingSet): void {
  if (sumReplicas(oldSets) === 0) return;
  const minAvailable = md.spec.replicas - maxUnavailableOf(md);
  const newUnavailable = Math.max(0, newSet.replicas - newSet.available);
  const maxScaledDown = sumReplicas(all) - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return;
  const oldestFirst = byCreation(oldSets);
  // Unhealthy replicas can go without lowering availability (they would block the rollout).
  let cleaned = 0;
  for (const w of oldestFirst) {
    if (cleaned >= maxScaledDown) break;
    const unhealthy = w.replicas - w.available;
    if (w.replicas === 0 || unhealthy <= 0) continue;
    const n = Math.min(maxScaledDown - cleaned, unhealthy);
    scaleMachineSet(w, w.replicas - n, md);
    cleaned += n;
  }
  const available = sumSurvivingAvailable(all);
  if (available <= minAvailable) return;
  const total = available - minAvailable;
  let scaled = 0;
  for (const w of oldestFirst) {
    if (scaled >= total) break;
    if (w.replicas === 0) continue;
    const n = Math.min(w.replicas, total - scaled);
    scaleMachineSet(w, w.replicas - n, md);
    scaled += n;
  }
}

/**
 * `cleanupDeployment`: beyond revisionHistoryLimit, the oldest old sets that are fully scaled
 * down (spec and status), whose status is current, and that are not already being deleted.
 */
function cleanupCandidates(md: DefaultedMachineDeployment, oldSets: WorkingSet[]): WorkingSet[] {
  const alive = byCreation(oldSets.filter((w) => !w.deleting));
  const diff = Math.min(alive.length - md.spec.revisionHistoryLimit, alive.length);
  const out: WorkingSet[] = [];
  for (let i = 0; i < diff; i++) {
    const w = alive[i];
    if (w.statusReplicas !== 0 || w.replicas !== 0 || w.generation > w.observedGeneration) continue;
    out.push(w);
  }
  return out;
}

/** `calculateStatus`, from the sets after this step's scaling (their observed counts unchanged). */
function computeStatus(
  md: DefaultedMachineDeployment,
  all: WorkingSet[],
  newSet: WorkingSet | undefined,
  collisionCount: number | undefined,
): MachineDeploymentStatus {
  const available = sumAvailable(all);
  const status: MachineDeploymentStatus = {
    observedGeneration: md.metadata.generation ?? 0,
    replicas: sumStatusReplicas(all),
    updatedReplicas: newSet?.statusReplicas ?? 0,
    readyReplicas: sumReady(all),
    availableReplicas: available,
    // Negative while scaling down (more available than wanted): reported as 0.
    unavailableReplicas: Math.max(0, sumReplicas(all) - available),
  };
  if (collisionCount !== undefined) status.collisionCount = collisionCount;
  return status;
}

/** `DeploymentComplete`. */
function isComplete(md: DefaultedMachineDeployment, s: MachineDeploymentStatus): boolean {
  const r = md.spec.replicas;
  return (
    s.updatedReplicas === r && s.replicas === r && s.availableReplicas === r && (s.observedGeneration ?? 0) >= (md.metadata.generation ?? 0)
  );
}

/** The working sets' differences from the inputs, as actions. */
function toActions(
  md: DefaultedMachineDeployment,
  all: WorkingSet[],
  newSet: WorkingSet | undefined,
  deletes: WorkingSet[],
  revision: string | undefined,
): RolloutAction[] {
  const grows: RolloutAction[] = [];
  const shrinks: RolloutAction[] = [];
  for (const w of all) {
    if (w.created) {
      const ms = structuredClone(w.ms);
      ms.spec.replicas = w.replicas;
      ms.metadata.annotations = { ...w.annotations };
      grows.unshift({ type: 'createMachineSet', machineSet: ms });
      continue;
    }
    const before = w.ms.spec.replicas ?? 1;
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(w.annotations)) if (w.ms.metadata.annotations?.[k] !== v) annotations[k] = v;
    const action: RolloutAction & { type: 'updateMachineSet' } = { type: 'updateMachineSet', name: w.name };
    if (w.replicas !== before) action.replicas = { from: before, to: w.replicas };
    if (Object.keys(annotations).length) action.annotations = annotations;
    if (w === newSet && (w.ms.spec.minReadySeconds ?? 0) !== w.minReadySeconds) action.minReadySeconds = w.minReadySeconds;
    if (!action.replicas && !action.annotations && action.minReadySeconds === undefined) continue;
    (w.replicas < before ? shrinks : grows).push(action);
  }
  const actions = [...grows, ...shrinks];
  for (const w of deletes)
    actions.push({ type: 'deleteMachineSet', name: w.name, ...(w.ms.metadata.uid ? { uid: w.ms.metadata.uid } : {}) });
  if (revision !== undefined && md.metadata.annotations?.[ANN_MD_REVISION] !== revision)
    actions.push({ type: 'setDeploymentRevision', revision });
  return actions;
}
