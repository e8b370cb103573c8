/**
 * The slices of machine-controller's MachineDeployment and MachineSet (`cluster.k8s.io/v1alpha1`)
 * the rollout logic reads and writes. The CRDs are schemaless, so everything a user can omit is
 * optional here; `withDefaults` and the validators decide what an absent or odd value means.
 */
import type { Machine } from '../machine/types.js';

/** Kubernetes IntOrString as it arrives in JSON: `1` or `"25%"`. */
export type IntOrString = number | string;

export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export type { OwnerReference } from '../kube/owner-reference.js';
import type { OwnerReference } from '../kube/owner-reference.js';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
}

/** A Machine template: metadata (labels, annotations, …) and the Machine spec, both opaque here. */
export interface MachineTemplateSpec {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  spec?: Record<string, unknown>;
}

export interface RollingUpdate {
  maxSurge?: IntOrString;
  maxUnavailable?: IntOrString;
}

export interface MachineDeploymentStrategy {
  type?: string;
  rollingUpdate?: RollingUpdate;
}

export interface MachineDeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  /**
   * Kubernetes' Deployment field; machine-controller's MD status has none. We keep it (the CRD is
   * schemaless) so a template-hash name collision can be resolved the way Kubernetes does.
   */
  collisionCount?: number;
}

export interface MachineDeployment {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: {
    replicas?: number;
    selector?: LabelSelector;
    template?: MachineTemplateSpec;
    strategy?: MachineDeploymentStrategy;
    minReadySeconds?: number;
    revisionHistoryLimit?: number;
    progressDeadlineSeconds?: number;
    paused?: boolean;
  };
  status?: MachineDeploymentStatus;
}

/** A MachineDeployment after `withDefaults`: the numeric fields and the strategy are always set. */
export interface DefaultedMachineDeployment extends MachineDeployment {
  metadata: ObjectMeta & { namespace: string };
  spec: MachineDeployment['spec'] & {
    replicas: number;
    minReadySeconds: number;
    revisionHistoryLimit: number;
    progressDeadlineSeconds: number;
    strategy: { type: string; rollingUpdate?: { maxSurge: IntOrString; maxUnavailable: IntOrString } };
  };
}

export interface MachineSetStatus {
  replicas?: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
}

export interface MachineSet {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: {
    replicas?: number;
    minReadySeconds?: number;
    deletePolicy?: string;
    selector?: LabelSelector;
    template?: MachineTemplateSpec;
  };
  status?: MachineSetStatus;
}

/** A Machine the MachineSet planner asks to create: the API server fills in name and uid. */
export interface MachineToCreate {
  apiVersion: string;
  kind: 'Machine';
  metadata: {
    generateName: string;
    namespace: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences: OwnerReference[];
    [k: string]: unknown;
  };
  spec: Record<string, unknown>;
}

export type { Machine };

/**
 * `spec.replicas` of a MachineSet. An absent value means 1, as Kubernetes' ReplicaSet and
 * cluster-api's MachineSet defaulting have it (machine-controller itself refuses a nil pointer;
 * our MachineSets always carry the field, so this only matters for hand-written ones).
 */
export function msReplicas(ms: MachineSet): number {
  return ms.spec.replicas ?? 1;
}
