/**
 * The normalised machine model: what the builders consume.
 *
 * Both providerSpec schemas (the current nested one and the flat 2019 one) are parsed,
 * validated and resolved (ConfigVars looked up through an injected resolver) into this
 * shape. Builders take it and never see raw JSON, clients or events.
 */
import type { ReferencedValue } from './referenced-values.js';

/** Operating systems machine-controller's KubeVirt provider supports. */
export const SUPPORTED_OS = ['ubuntu', 'rhel', 'flatcar', 'rockylinux'] as const;
export type OperatingSystem = (typeof SUPPORTED_OS)[number];

/** CDI DataVolume `spec.source`, restricted to the variants we produce. */
export type DataVolumeSource =
  | { http: { url: string; extraHeaders?: string[]; secretRef?: string } }
  | { registry: { url: string; pullMethod: 'node' | 'pod' } }
  | { pvc: { namespace: string; name: string } };

/** The primary disk's image, before it is turned into a DataVolume source. */
export interface ImageSpec {
  /** `osImage` (nested) or `sourceURL` (flat). */
  osImage: string;
  /** `http` | `registry` | `pvc` | '' (auto-detect as machine-controller does). */
  source: string;
  /** Registry only; machine-controller defaults an empty value to `node`. */
  pullMethod: 'node' | 'pod';
  /** HTTP only: `Name: value` lines, from `extraHeaders` or the `extraHeadersSecretRef` Secret. */
  extraHeaders?: string[];
  /** HTTP only: name of the infra-cluster Secret holding the `extraHeaders` (resolved by I/O). */
  extraHeadersSecretRef?: string;
  /** HTTP only: CDI basic-auth Secret name (`dataVolumeSecretRef`). */
  dataVolumeSecretRef?: string;
}

export interface DiskSpec {
  /** Kubernetes quantity, already validated, e.g. `10Gi`. */
  size: string;
  /** Set even when empty, as machine-controller does. */
  storageClassName: string;
  /** `ReadWriteOnce` … ; undefined means "ask the StorageProfile" (needs the infra cluster). */
  storageAccessType?: string;
}

export interface PrimaryDiskSpec extends DiskSpec {
  /** `pvc` → DataVolume `spec.pvc`; everything else → `spec.storage`. */
  storageTarget: 'pvc' | 'storage';
  image: ImageSpec;
}

export interface MatcherSpec {
  name: string;
  kind?: string;
  revisionName?: string;
  inferFromVolume?: string;
  inferFromVolumeFailurePolicy?: string;
}

export interface NodeAffinityPreset {
  type: 'soft' | 'hard';
  key: string;
  values: string[];
}

export interface TopologySpreadConstraintSpec {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: string;
}

export interface PodDnsConfig {
  nameservers?: string[];
  searches?: string[];
  options?: { name: string; value?: string }[];
}

export interface VirtualMachineSpecModel {
  instancetype?: MatcherSpec;
  preference?: MatcherSpec;
  /** requests = limits; undefined when an instancetype is set. cpu absent with vcpus.cores. */
  resources?: { cpu?: string; memory: string };
  /** `vcpus.cores` when ≠ 0 → `domain.cpu.cores`. */
  cores?: number;
  primaryDisk: PrimaryDiskSpec;
  secondaryDisks: DiskSpec[];
  dnsPolicy?: 'ClusterFirstWithHostNet' | 'ClusterFirst' | 'Default' | 'None';
  dnsConfig?: PodDnsConfig;
  location?: { region?: string; zone?: string };
  /** Kube-OVN subnet (`providerNetwork.vpc.subnet.name`). */
  subnet?: string;
  networkMultiQueue: boolean;
  evictionStrategy: 'External' | 'LiveMigrate';
  nodeAffinity?: NodeAffinityPreset;
  /** Empty → the builder uses machine-controller's default constraint. */
  topologySpreadConstraints: TopologySpreadConstraintSpec[];
}

/** A fully validated and resolved providerSpec. Secrets (kubeconfig) stay out of logs. */
export interface MachineConfig {
  operatingSystem: OperatingSystem;
  operatingSystemSpec: Record<string, unknown>;
  sshPublicKeys: string[];
  caPublicKey?: string;
  network?: Record<string, unknown>;
  overwriteCloudConfig?: string;
  clusterName: string;
  projectID: string;
  /** Decoded infra-cluster kubeconfig text; undefined → in-cluster / environment. SECRET. */
  kubeconfig?: string;
  /** Infra namespace from the flat 2019 `namespace` field; undefined → deployment default. */
  namespace?: string;
  vm: VirtualMachineSpecModel;
}

/** One validation fault: the JSON path under providerSpec.value, the offending value, the message. */
export interface SpecIssue {
  path: string;
  value?: unknown;
  message: string;
}

export type ParseResult =
  | {
      ok: true;
      config: MachineConfig;
      deprecations: string[];
      schema: 'nested' | 'flat';
      /** Accepted but probably unintended (e.g. ignored fields, unknown keys inside a ConfigVar). */
      warnings?: string[];
      /** Values read from Secrets/ConfigMaps: messages about this Machine must not quote them. */
      referenced?: ReferencedValue[];
    }
  | { ok: false; issues: SpecIssue[] };
