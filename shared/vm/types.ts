/**
 * Input and output shapes of the VirtualMachine builder.
 *
 * The output types are plain JSON objects with the camelCase keys the KubeVirt / CDI CRD
 * schemas expect. They are deliberately loose (optional fields, string unions only where
 * machine-controller's values are fixed) — they exist so that a typo such as
 * `topologyspreadconstraints` or `userDataSecretRef` fails to compile, not to model the
 * whole KubeVirt API.
 */
import type { DataVolumeSource, MachineConfig, MatcherSpec, PodDnsConfig } from '../providerspec/types.js';

/** String map as used for labels and annotations. */
export type StringMap = Record<string, string>;

/** The identity of the Machine the VM is built for. Only metadata is needed, never the spec. */
export interface MachineIdentity {
  name: string;
  namespace: string;
  uid?: string;
  /** Copied onto the VM and its VMI template (machine-controller 6b0bb9c59). */
  labels?: StringMap;
  /** `cdi.kubevirt.io*` keys go to the primary DataVolume template, the rest to the VMI template. */
  annotations?: StringMap;
}

/** Everything `buildVirtualMachine` needs; all I/O (StorageClass, StorageProfile, MD lookup) is done before. */
export interface VmBuildInput {
  machine: MachineIdentity;
  config: MachineConfig;
  /** Infra namespace the VM lives in (POD_NAMESPACE / flat `namespace` / kube-system, resolved by the caller). */
  namespace: string;
  /** Known only when the Machine → MachineSet → MachineDeployment lookup succeeded; label `md`. */
  machineDeploymentName?: string;
  /** Secret referenced by `cloudInitNoCloud.secretRef`. */
  userdataSecretName: string;
  /** Only used for the flatcar `kubevirt.io/ignitiondata` template annotation. */
  userdata: string;
  /** The primary disk's access mode, already resolved (config value or StorageProfile). */
  primaryAccessMode: string;
  /**
   * Secondary disks' own resolved access modes. machine-controller computes them and then
   * ignores them (every secondary DataVolume gets the primary mode); accepted so the caller
   * keeps the same validation, unused by the builder.
   */
  secondaryAccessModes?: string[];
  /** `topology.kubernetes.io/region|zone` derived from the StorageClass's allowedTopologies. */
  topologyLabels?: StringMap;
  /** Our ownership labels: VM metadata only, never the VMI template (absent in golden tests). */
  extraLabels?: StringMap;
}

export interface ObjectMeta {
  name: string;
  namespace: string;
  labels: StringMap;
  annotations?: StringMap;
  ownerReferences?: OwnerReference[];
}

export type { OwnerReference } from '../kube/owner-reference.js';
import type { OwnerReference } from '../kube/owner-reference.js';

export interface NodeSelectorRequirement {
  key: string;
  operator: 'In' | 'Exists';
  values?: string[];
}

export interface Affinity {
  nodeAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: {
      nodeSelectorTerms: { matchExpressions: NodeSelectorRequirement[] }[];
    };
    preferredDuringSchedulingIgnoredDuringExecution?: {
      weight: number;
      preference: { matchExpressions: NodeSelectorRequirement[] };
    }[];
  };
}

export interface TopologySpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: string;
  labelSelector: { matchLabels: StringMap };
}

/** `{requests, limits}` with Kubernetes quantities as strings. */
export interface ResourceRequirements {
  requests?: StringMap;
  limits?: StringMap;
}

export interface Disk {
  name: string;
  disk: { bus: 'virtio' };
}

export type Volume = { name: string; dataVolume: { name: string } } | { name: string; cloudInitNoCloud: { secretRef: { name: string } } };

export interface VirtualMachineInstanceSpec {
  evictionStrategy: string;
  networks: { name: string; pod: Record<string, never> }[];
  domain: {
    cpu?: { cores: number };
    devices: {
      interfaces: { name: string; bridge: Record<string, never> }[];
      disks: Disk[];
      networkInterfaceMultiqueue: boolean;
    };
    resources?: ResourceRequirements;
  };
  affinity: Affinity;
  terminationGracePeriodSeconds: number;
  volumes: Volume[];
  dnsPolicy?: string;
  dnsConfig?: PodDnsConfig;
  topologySpreadConstraints: TopologySpreadConstraint[];
}

/** CDI `StorageSpec` / `PersistentVolumeClaimSpec` subset machine-controller fills. */
export interface DataVolumeStorage {
  storageClassName: string;
  accessModes: string[];
  resources: { requests: { storage: string } };
}

export interface DataVolumeTemplate {
  metadata: { name: string; annotations?: StringMap };
  spec: { source: DataVolumeSource; storage?: DataVolumeStorage; pvc?: DataVolumeStorage };
}

export interface VirtualMachine {
  apiVersion: 'kubevirt.io/v1';
  kind: 'VirtualMachine';
  metadata: ObjectMeta;
  spec: {
    runStrategy: 'Once' | 'Always';
    instancetype?: MatcherSpec;
    preference?: MatcherSpec;
    template: {
      metadata: { labels: StringMap; annotations: StringMap };
      spec: VirtualMachineInstanceSpec;
    };
    dataVolumeTemplates: DataVolumeTemplate[];
  };
}

/** The userdata Secret read by virt-launcher through `cloudInitNoCloud.secretRef`. */
export interface UserdataSecret {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: ObjectMeta;
  type: 'Opaque';
  /** base64, as the API stores it; `data` (not `stringData`) so re-applies compare equal. */
  data: StringMap;
}
