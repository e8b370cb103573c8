/**
 * Labels and template annotations of the VirtualMachine, in machine-controller's precedence.
 */
import {
  ANN_IGNITION,
  ANN_OVN_LIVE_MIGRATION,
  ANN_OVN_LOGICAL_SWITCH,
  ANN_PCI_ON_ROOT_COMPLEX,
  ANN_POD_BRIDGE_LIVE_MIGRATION,
  CDI_ANNOTATION_PREFIX,
  LABEL_CLUSTER_ID,
  LABEL_CLUSTER_NAME,
  LABEL_MD,
  LABEL_PROJECT_ID,
  LABEL_ROLE,
  LABEL_TOPOLOGY_REGION,
  LABEL_TOPOLOGY_ZONE,
  LABEL_VM,
} from '../constants.js';
import type { MachineConfig } from '../providerspec/types.js';
import type { StringMap } from './types.js';

/** Value of `cluster.x-k8s.io/role` on every worker VM. */
export const ROLE_WORKER = 'worker';

export interface VmLabelInput {
  machineName: string;
  machineLabels?: StringMap;
  topologyLabels?: StringMap;
  location?: { region?: string; zone?: string };
  machineDeploymentName?: string;
  clusterName: string;
  projectID: string;
}

/**
 * The labels shared by the VM and its VMI template.
 *
 * Later writes win, as in machine-controller: StorageClass topology labels, then the
 * configured `location` (Create's appendTopologiesLabels), then every Machine label
 * (6b0bb9c59), then the fixed labels newVirtualMachine sets — so a Machine label can never
 * hide `kubevirt.io/vm` or the cluster labels, but can override topology.
 */
export function buildVmLabels(input: VmLabelInput): StringMap {
  const labels: StringMap = { ...input.topologyLabels };
  if (input.location?.region) labels[LABEL_TOPOLOGY_REGION] = input.location.region;
  if (input.location?.zone) labels[LABEL_TOPOLOGY_ZONE] = input.location.zone;
  Object.assign(labels, input.machineLabels);
  labels[LABEL_VM] = input.machineName;
  // machine-controller only sets `md` when the MachineSet → MachineDeployment lookup succeeds.
  if (input.machineDeploymentName !== undefined) labels[LABEL_MD] = input.machineDeploymentName;
  labels[LABEL_CLUSTER_NAME] = input.clusterName;
  labels[LABEL_ROLE] = ROLE_WORKER;
  // Set even when empty: the fixtures carry `kubermatic.k8c.io/project-id: ""`.
  labels[LABEL_PROJECT_ID] = input.projectID;
  labels[LABEL_CLUSTER_ID] = input.clusterName;
  return labels;
}

/** The two halves machine-controller splits Machine annotations into. */
export interface SplitAnnotations {
  /** VMI template annotations: the fixed ones plus non-CDI Machine annotations. */
  template: StringMap;
  /** Primary DataVolume template annotations: Machine annotations starting with `cdi.kubevirt.io`. */
  dataVolume: StringMap;
}

/**
 * VMI template annotations and primary DataVolume annotations (c2e505556).
 *
 * Machine annotations are applied after the fixed ones, so, exactly as in machine-controller,
 * a Machine annotation with the same key replaces ours.
 */
export function buildTemplateAnnotations(
  config: MachineConfig,
  userdata: string,
  machineAnnotations: StringMap | undefined,
): SplitAnnotations {
  const template: StringMap = {};
  if (config.operatingSystem === 'flatcar') {
    // Flatcar boots from Ignition, which KubeVirt passes via this annotation.
    template[ANN_IGNITION] = userdata;
    // KubeVirt ≥ 1.6.4 dropped fw_cfg for Ignition; this keeps Flatcar booting (502bfecc5).
    template[ANN_PCI_ON_ROOT_COMPLEX] = 'true';
  }
  template[ANN_POD_BRIDGE_LIVE_MIGRATION] = 'true';
  template[ANN_OVN_LIVE_MIGRATION] = 'true';
  if (config.vm.subnet) template[ANN_OVN_LOGICAL_SWITCH] = config.vm.subnet;

  const dataVolume: StringMap = {};
  for (const [key, value] of Object.entries(machineAnnotations ?? {})) {
    if (key.startsWith(CDI_ANNOTATION_PREFIX)) dataVolume[key] = value;
    else template[key] = value;
  }
  return { template, dataVolume };
}
