/**
 * Building a MachineDeployment's new MachineSet (`getNewMachineSet`, reference §8.4) and
 * `NewMSNewReplicas`, the size a new set may grow to in one step.
 */
import { controllerRef } from '../kube/owner-reference.js';
import { FINALIZER_DELETE_DEPENDENTS, LABEL_MACHINE_TEMPLATE_HASH } from '../constants.js';
import { apiVersionOf, MACHINE_DEPLOYMENT, MACHINE_SET } from '../kube/paths.js';
import { computeTemplateHash, machineSetName } from './hash.js';
import { getValueFromIntOrPercent } from './intstr.js';
import { setNewMachineSetAnnotations } from './revisions.js';
import type { DefaultedMachineDeployment, LabelSelector, MachineSet, OwnerReference } from './types.js';
import { sumExisting, type WorkingSet } from './working.js';

/** `metav1.NewControllerRef(md, MachineDeployment)`. */
export function deploymentControllerRef(md: DefaultedMachineDeployment): OwnerReference {
  return controllerRef({ apiVersion: apiVersionOf(MACHINE_DEPLOYMENT), kind: MACHINE_DEPLOYMENT.kind }, md.metadata);
}

/** `CloneSelectorAndAddLabel`: the MD's selector narrowed to one template hash. */
function selectorWithHash(sel: LabelSelector | undefined, hash: string): LabelSelector {
  const out: LabelSelector = { matchLabels: { ...(sel?.matchLabels ?? {}), [LABEL_MACHINE_TEMPLATE_HASH]: hash } };
  if (sel?.matchExpressions) out.matchExpressions = structuredClone(sel.matchExpressions);
  return out;
}

/**
 * The new MachineSet, before its size is known: name `<md>-<SafeEncodeString(hash)>`, the hash as
 * label on itself, its selector and its template, the MD's controller reference, the MD's
 * foregroundDeletion finalizer if it has one, minReadySeconds, and the revision annotations for
 * `newRevision` (MD annotations copied, desired/max replicas set). `spec.replicas` is 0.
 */
export function buildNewMachineSet(md: DefaultedMachineDeployment, hash: string, newRevision: string): MachineSet {
  const template = structuredClone(md.spec.template ?? {});
  const labels = { ...(template.metadata?.labels ?? {}), [LABEL_MACHINE_TEMPLATE_HASH]: hash };
  template.metadata = { ...(template.metadata ?? {}), labels };
  const annotations = setNewMachineSetAnnotations(md, undefined, newRevision, false).annotations;
  const ms: MachineSet = {
    apiVersion: apiVersionOf(MACHINE_SET),
    kind: MACHINE_SET.kind,
    metadata: {
      name: machineSetName(md, hash),
      namespace: md.metadata.namespace,
      labels: { ...labels },
      annotations,
      ownerReferences: [deploymentControllerRef(md)],
    },
    spec: {
      replicas: 0,
      minReadySeconds: md.spec.minReadySeconds,
      selector: selectorWithHash(md.spec.selector, hash),
      template,
    },
  };
  if (md.metadata.finalizers?.includes(FINALIZER_DELETE_DEPENDENTS)) ms.metadata.finalizers = [FINALIZER_DELETE_DEPENDENTS];
  return ms;
}

/** The template hash for the MD's current template and collision count. */
export const templateHashOf = (md: DefaultedMachineDeployment): string => computeTemplateHash(md.spec.template, md.status?.collisionCount);

/**
 * `NewMSNewReplicas` (RollingUpdate): grow the new set by what the surge allows — the total never
 * exceeds replicas + maxSurge — and never past replicas. With observed counts the total is what
 * exists or is about to (`sumExisting`): Machines being deleted, and those of a set just scaled
 * down that its MachineSet function has not deleted yet, so neither a slow deletion nor a
 * MachineSet lagging behind its new size can push the number of existing Machines over the bound;
 * without observations this is machine-controller's arithmetic.
 */
export function newMSNewReplicas(md: DefaultedMachineDeployment, all: readonly WorkingSet[], newSet: WorkingSet): number {
  const replicas = md.spec.replicas;
  const maxSurge = getValueFromIntOrPercent(md.spec.strategy.rollingUpdate?.maxSurge, replicas, true);
  const current = sumExisting(all);
  const maxTotal = replicas + maxSurge;
  if (current >= maxTotal) return newSet.replicas;
  const scaleUp = Math.min(maxTotal - current, replicas - newSet.replicas);
  return newSet.replicas + scaleUp;
}
