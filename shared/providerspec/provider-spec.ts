/**
 * zod schemas for `Machine.spec.providerSpec.value` (machine-controller's `providerconfig.Config`)
 * and the current nested KubeVirt `cloudProviderSpec` (`sdk/cloudprovider/kubevirt/types.go`,
 * since 72f156a2c). Decoding only: strict like Go's DisallowUnknownFields, keys matched
 * case-insensitively (see go-json.ts). Semantics (defaults, resolution, validation) live in
 * nested-spec.ts; the flat 2019 schema in legacy.ts.
 */
import * as z from 'zod';
import { configVarBoolSchema as cvb, configVarStringSchema as cvs } from './configvar.js';
import { goInt, goSlice, goString, goStringSlice, goStruct } from './go-json.js';

/** `runtime.RawExtension`: any JSON; null (dropped by the decoder) means absent. */
const rawExtension = z.unknown();

/** machine-controller's `NetworkConfig` (static network settings, passed to OSM). */
const networkConfig = goStruct('providerconfig.NetworkConfig', {
  cidr: goString,
  gateway: goString,
  dns: goStruct('providerconfig.DNSConfig', { servers: goStringSlice }),
  ipFamily: goString,
});

/** The providerSpec envelope (`providerconfig.Config`). */
export const envelopeSchema = goStruct('providerconfig.Config', {
  sshPublicKeys: goStringSlice,
  caPublicKey: goString,
  cloudProvider: goString,
  cloudProviderSpec: rawExtension,
  operatingSystem: goString,
  operatingSystemSpec: rawExtension,
  network: networkConfig,
  overwriteCloudConfig: goString,
});
export type Envelope = z.output<typeof envelopeSchema>;

/** KubeVirt `InstancetypeMatcher` / `PreferenceMatcher` (the fields both share). */
const matcher = (goType: string) =>
  goStruct(goType, {
    name: goString,
    kind: goString,
    revisionName: goString,
    inferFromVolume: goString,
    inferFromVolumeFailurePolicy: goString,
  });

/** corev1 `PodDNSConfig`. */
export const podDnsConfigSchema = goStruct('v1.PodDNSConfig', {
  nameservers: goStringSlice,
  searches: goStringSlice,
  options: goSlice('[]v1.PodDNSConfigOption', goStruct('v1.PodDNSConfigOption', { name: goString, value: goString })),
});

/** `Disk` fields, embedded (promoted) in both disk structs. */
const diskFields = {
  size: cvs,
  storageClassName: cvs,
  storageAccessType: cvs,
};

const primaryDisk = goStruct('kubevirt.PrimaryDisk', {
  ...diskFields,
  dataVolumeSecretRef: cvs,
  extraHeaders: goStringSlice,
  extraHeadersSecretRef: cvs,
  storageTarget: cvs,
  osImage: cvs,
  source: cvs,
  pullMethod: cvs,
});

const template = goStruct('kubevirt.Template', {
  vcpus: goStruct('kubevirt.VCPUs', { cores: goInt }),
  cpus: cvs,
  memory: cvs,
  primaryDisk,
  secondaryDisks: goSlice('[]kubevirt.SecondaryDisks', goStruct('kubevirt.SecondaryDisks', diskFields)),
});

const virtualMachine = goStruct('kubevirt.VirtualMachine', {
  /** Deprecated since 40cb0e45b; accepted and ignored. */
  flavor: goStruct('kubevirt.Flavor', { name: cvs, profile: cvs }),
  instancetype: matcher('v1.InstancetypeMatcher'),
  preference: matcher('v1.PreferenceMatcher'),
  template,
  dnsPolicy: cvs,
  dnsConfig: podDnsConfigSchema,
  location: goStruct('kubevirt.Location', { region: goString, zone: goString }),
  providerNetwork: goStruct('kubevirt.ProviderNetwork', {
    name: goString,
    vpc: goStruct('kubevirt.VPC', {
      name: goString,
      subnet: goStruct('kubevirt.Subnet', { name: goString }),
    }),
  }),
  enableNetworkMultiQueue: cvb,
  evictionStrategy: goString,
});

const affinity = goStruct('kubevirt.Affinity', {
  /** Deprecated (5819bb5f2); ignored. */
  podAffinityPreset: cvs,
  /** Deprecated (68b11acab); ignored. */
  podAntiAffinityPreset: cvs,
  nodeAffinityPreset: goStruct('kubevirt.NodeAffinityPreset', {
    type: cvs,
    key: cvs,
    values: goSlice('[]providerconfig.ConfigVarString', cvs),
  }),
});

const topologySpreadConstraint = goStruct('kubevirt.TopologySpreadConstraint', {
  maxSkew: cvs,
  topologyKey: cvs,
  whenUnsatisfiable: cvs,
});

/** The current nested KubeVirt cloudProviderSpec (`kubevirt.RawConfig`). */
export const nestedSpecSchema = goStruct('kubevirt.RawConfig', {
  clusterName: cvs,
  projectID: cvs,
  auth: goStruct('kubevirt.Auth', { kubeconfig: cvs }),
  virtualMachine,
  affinity,
  topologySpreadConstraints: goSlice('[]kubevirt.TopologySpreadConstraint', topologySpreadConstraint),
});
export type NestedSpec = z.output<typeof nestedSpecSchema>;

/** Top-level keys that only the nested schema has (used to tell the schemas apart). */
export const NESTED_TOP_LEVEL_FIELDS = [
  'clusterName',
  'projectID',
  'auth',
  'virtualMachine',
  'affinity',
  'topologySpreadConstraints',
] as const;
