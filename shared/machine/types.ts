import type { ErrorOwner, ProviderCondition } from './conditions.js';

/**
 * The slice of machine-controller's Machine (`cluster.k8s.io/v1alpha1`) we read and write.
 * The CRD is schemaless, so everything is optional and validated where used.
 */
export interface OwnerRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
}

export interface MachineAddress {
  type: string;
  address: string;
}

/**
 * What we record per follow-up type: the transition key it was emitted for, and when. Absent
 * key and time: not claimed yet, only `awaited`.
 */
export interface EmissionRecord {
  key?: string;
  at?: string;
  /** The send failed then: not sent, retried after a hold (emissions.ts). */
  failedAt?: string | null;
  /** A successor follow-up waits for this one: its claimant confirms the send with `sentAt`. */
  awaited?: boolean;
  sentAt?: string | null;
}

/** Our part of `status.providerStatus` (machine-controller leaves this field to providers). */
export interface ProviderStatus {
  phase?: 'Provisioning' | 'ImageImported' | 'Ready' | 'Failed' | 'Deleting';
  infraNamespace?: string;
  virtualMachine?: { name: string; uid: string };
  userdataSecret?: string;
  dataVolumes?: string[];
  /** Follow-up events already emitted, keyed by event type. */
  emitted?: Record<string, EmissionRecord>;
  deprecations?: string[];
  /** What each stage observed (shared/machine/conditions.ts). */
  conditions?: ProviderCondition[];
  /** Which function wrote status.errorReason/errorMessage, and so may clear it. */
  errorOwner?: ErrorOwner | null;
  /** A transient fault the machine function is retrying (image or infra unreachable), since when. */
  waiting?: { reason: string; message: string; since: string } | null;
}

export interface Machine {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    finalizers?: string[];
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerRef[];
  };
  spec?: {
    name?: string;
    providerID?: string;
    providerSpec?: { value?: unknown };
    versions?: { kubelet?: string };
    [k: string]: unknown;
  };
  status?: {
    errorReason?: string | null;
    errorMessage?: string | null;
    addresses?: MachineAddress[];
    lastUpdated?: string;
    nodeRef?: { apiVersion?: string; kind?: string; name: string; uid?: string };
    providerStatus?: ProviderStatus | null;
    [k: string]: unknown;
  };
}

export interface MachineRef {
  namespace: string;
  name: string;
  uid: string;
}

export const machineRef = (m: Machine): MachineRef => ({
  namespace: m.metadata.namespace,
  name: m.metadata.name,
  uid: m.metadata.uid,
});

/** The controlling MachineSet, when a MachineSet created this Machine. */
export function owningMachineSet(m: Machine): OwnerRef | undefined {
  return m.metadata.ownerReferences?.find((o) => o.kind === 'MachineSet' && o.apiVersion.startsWith('cluster.k8s.io/'));
}
