/**
 * The revision bookkeeping machine-controller keeps in annotations (reference §8.4): every
 * MachineSet records which revision of its MachineDeployment it serves, the revisions it served
 * before (a rollback re-uses a MachineSet), and the MD size it was last scaled for.
 */
import {
  ANN_LAST_APPLIED_CONFIG,
  ANN_MD_DESIRED_REPLICAS,
  ANN_MD_MAX_REPLICAS,
  ANN_MD_REVISION,
  ANN_MD_REVISION_HISTORY,
} from '../constants.js';
import { maxSurgeOf } from './intstr.js';
import type { DefaultedMachineDeployment } from './types.js';

type Annotations = Record<string, string>;
interface Annotated {
  metadata: { annotations?: Annotations };
}

/** strconv.ParseInt / Atoi syntax. */
const GO_INT = /^[+-]?[0-9]+$/;

function parseGoInt(v: string | undefined): number | undefined {
  return v !== undefined && GO_INT.test(v) ? Number.parseInt(v, 10) : undefined;
}

/** The revision of an object: 0 without the annotation, undefined when it is not an integer. */
export function revisionOf(obj: Annotated): number | undefined {
  const v = obj.metadata.annotations?.[ANN_MD_REVISION];
  return v === undefined ? 0 : parseGoInt(v);
}

/** `MaxRevision`: the highest parseable revision (unparseable ones are skipped), 0 for none. */
export function maxRevision(objs: readonly Annotated[]): number {
  let max = 0;
  for (const o of objs) {
    const r = revisionOf(o);
    if (r !== undefined && r > max) max = r;
  }
  return max;
}

/** Annotations that belong to the MachineSet itself and are never copied from the MD. */
export const SKIPPED_ANNOTATIONS: ReadonlySet<string> = new Set([
  ANN_LAST_APPLIED_CONFIG,
  ANN_MD_REVISION,
  ANN_MD_REVISION_HISTORY,
  ANN_MD_DESIRED_REPLICAS,
  ANN_MD_MAX_REPLICAS,
]);

/** Result of an annotation computation: a new map (inputs are never modified) and whether it differs. */
export interface AnnotationUpdate {
  annotations: Annotations;
  changed: boolean;
}

/** The MD's annotations copied onto the MS's, except the skipped ones; MS-only keys are kept. */
export function copyDeploymentAnnotations(md: Annotated, msAnnotations: Annotations | undefined): AnnotationUpdate {
  const annotations = { ...(msAnnotations ?? {}) };
  let changed = false;
  for (const [k, v] of Object.entries(md.metadata.annotations ?? {})) {
    if (SKIPPED_ANNOTATIONS.has(k) || annotations[k] === v) continue;
    annotations[k] = v;
    changed = true;
  }
  return { annotations, changed };
}

/** `desired-replicas` and `max-replicas` set to the given numbers. */
export function setReplicasAnnotations(msAnnotations: Annotations | undefined, desired: number, max: number): AnnotationUpdate {
  const annotations = { ...(msAnnotations ?? {}) };
  let changed = false;
  for (const [k, v] of [
    [ANN_MD_DESIRED_REPLICAS, String(desired)],
    [ANN_MD_MAX_REPLICAS, String(max)],
  ] as const) {
    if (annotations[k] !== v) {
      annotations[k] = v;
      changed = true;
    }
  }
  return { annotations, changed };
}

/** The replica annotations for an MD: desired = replicas, max = replicas + maxSurge. */
export function replicaAnnotationValues(md: DefaultedMachineDeployment): { desired: number; max: number } {
  return { desired: md.spec.replicas, max: md.spec.replicas + maxSurgeOf(md) };
}

/** An integer annotation of an MS (`desired-replicas`, `max-replicas`), undefined if absent or malformed. */
export function intAnnotation(obj: Annotated, key: string): number | undefined {
  return parseGoInt(obj.metadata.annotations?.[key]);
}

/**
 * `SetNewMachineSetAnnotations`: copy the MD's annotations, raise the revision to `newRevision`
 * when it is lower (never lower it: old MachineSets may have been deleted since), record the
 * replaced revision in `revision-history` when a MachineSet is re-used (a rollback), and for a
 * MachineSet about to be created (`exists` false) set the replica annotations.
 *
 * History is appended only when the revision actually changes, as Kubernetes does today;
 * machine-controller's copy appends whenever any annotation changed, which repeats entries
 * when someone merely annotates the MD.
 */
export function setNewMachineSetAnnotations(
  md: DefaultedMachineDeployment,
  msAnnotations: Annotations | undefined,
  newRevision: string,
  exists: boolean,
): AnnotationUpdate {
  const copied = copyDeploymentAnnotations(md, msAnnotations);
  const annotations = copied.annotations;
  let changed = copied.changed;
  const hadRevision = Object.hasOwn(annotations, ANN_MD_REVISION);
  const oldRevision = annotations[ANN_MD_REVISION] ?? '';
  const oldInt = oldRevision === '' ? 0 : parseGoInt(oldRevision);
  const newInt = parseGoInt(newRevision);
  // Go logs and gives up on a malformed revision; nothing is written.
  if (oldInt === undefined || newInt === undefined) return { annotations: { ...(msAnnotations ?? {}) }, changed: false };
  if (oldInt < newInt) {
    annotations[ANN_MD_REVISION] = newRevision;
    changed = true;
    if (hadRevision) {
      const history = annotations[ANN_MD_REVISION_HISTORY] ?? '';
      annotations[ANN_MD_REVISION_HISTORY] = history === '' ? oldRevision : `${history},${oldRevision}`;
    }
  }
  if (!exists) {
    const { desired, max } = replicaAnnotationValues(md);
    const r = setReplicasAnnotations(annotations, desired, max);
    return { annotations: r.annotations, changed: changed || r.changed };
  }
  return { annotations, changed };
}

/** `SetDeploymentRevision`: the MD's annotations with its revision set, and whether that changed. */
export function setDeploymentRevision(md: Annotated, revision: string): AnnotationUpdate {
  const annotations = { ...(md.metadata.annotations ?? {}) };
  const changed = annotations[ANN_MD_REVISION] !== revision;
  annotations[ANN_MD_REVISION] = revision;
  return { annotations, changed };
}
