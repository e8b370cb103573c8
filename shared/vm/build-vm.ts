/**
 * The KubeVirt VirtualMachine machine-controller's `newVirtualMachine` builds, as a pure function.
 *
 * Every input that needs the infra cluster (StorageClass topology labels, StorageProfile
 * access mode, instancetype kind, MachineDeployment name) is resolved by the caller; this
 * module never does I/O, so its output is golden-tested against machine-controller's fixtures.
 */
import { LABEL_MD } from '../constants.js';
import { buildDataVolumeTemplates, secondaryDiskName } from './data-volumes.js';
import { buildTemplateAnnotations, buildVmLabels } from './labels.js';
import { buildAffinity, buildTopologySpreadConstraints } from './scheduling.js';
import type { Disk, ResourceRequirements, VirtualMachine, VirtualMachineInstanceSpec, VmBuildInput, Volume } from './types.js';

/** Disk/volume names machine-controller uses; the VMI's disks and volumes pair up by name. */
export const PRIMARY_DISK_NAME = 'datavolumedisk';
export const CLOUD_INIT_DISK_NAME = 'cloudinitdisk';
/** Network and interface name of the single pod network. */
export const DEFAULT_NETWORK_NAME = 'default';
/** machine-controller's fixed grace period for the VMI. */
export const TERMINATION_GRACE_PERIOD_SECONDS = 30;

/**
 * Builds the VirtualMachine for one Machine exactly as machine-controller's `newVirtualMachine`,
 * plus `input.extraLabels` on the VM's own metadata. Pure: same input, same output; the
 * input is not mutated and no part of the output aliases it.
 */
export function buildVirtualMachine(input: VmBuildInput): VirtualMachine {
  const { machine, config } = input;
  const vmSpec = config.vm;

  const labels = buildVmLabels({
    machineName: machine.name,
    machineLabels: machine.labels,
    topologyLabels: input.topologyLabels,
    location: vmSpec.location,
    machineDeploymentName: input.machineDeploymentName,
    clusterName: config.clusterName,
    projectID: config.projectID,
  });
  const annotations = buildTemplateAnnotations(config, input.userdata, machine.annotations);

  const secondaryNames = vmSpec.secondaryDisks.map((_, i) => secondaryDiskName(machine.name, i));
  const disks: Disk[] = [PRIMARY_DISK_NAME, CLOUD_INIT_DISK_NAME, ...secondaryNames].map((name) => ({
    name,
    disk: { bus: 'virtio' },
  }));
  const volumes: Volume[] = [
    { name: PRIMARY_DISK_NAME, dataVolume: { name: machine.name } },
    // `secretRef`, not `userDataSecretRef` (the Go field name): the CRD would prune the latter.
    { name: CLOUD_INIT_DISK_NAME, cloudInitNoCloud: { secretRef: { name: input.userdataSecretName } } },
    ...secondaryNames.map((name) => ({ name, dataVolume: { name } })),
  ];

  const templateSpec: VirtualMachineInstanceSpec = {
    evictionStrategy: vmSpec.evictionStrategy,
    networks: [{ name: DEFAULT_NETWORK_NAME, pod: {} }],
    domain: {
      devices: {
        interfaces: [{ name: DEFAULT_NETWORK_NAME, bridge: {} }],
        disks,
        networkInterfaceMultiqueue: vmSpec.networkMultiQueue,
      },
    },
    affinity: buildAffinity(vmSpec.nodeAffinity),
    terminationGracePeriodSeconds: TERMINATION_GRACE_PERIOD_SECONDS,
    volumes,
    // machine-controller selects on the final `md` label, which may also come from a Machine label.
    topologySpreadConstraints: buildTopologySpreadConstraints(vmSpec.topologySpreadConstraints, labels[LABEL_MD] ?? ''),
  };
  const resources = buildResources(input);
  if (resources) templateSpec.domain.resources = resources;
  // `cores` only with `vcpus.cores` ≠ 0; KubeVirt's cpuAllocationRatio then sizes the CPU request.
  if (vmSpec.cores) templateSpec.domain.cpu = { cores: vmSpec.cores };
  if (vmSpec.dnsPolicy) templateSpec.dnsPolicy = vmSpec.dnsPolicy;
  if (vmSpec.dnsConfig) templateSpec.dnsConfig = structuredClone(vmSpec.dnsConfig);

  const vm: VirtualMachine = {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: {
      name: machine.name,
      namespace: input.namespace,
      // Ownership labels go on the VM only: the template's labels reach the VMI and the
      // virt-launcher pod, which we never select on.
      labels: { ...labels, ...input.extraLabels },
    },
    spec: {
      // Kube-OVN pins the IP across VMI restarts, so with a subnet the VM may always run;
      // without it a restarted VMI would come back with a new IP under the same Node name,
      // so it runs once and a failed Machine is replaced instead.
      runStrategy: vmSpec.subnet ? 'Always' : 'Once',
      template: {
        metadata: { labels: { ...labels }, annotations: annotations.template },
        spec: templateSpec,
      },
      dataVolumeTemplates: buildDataVolumeTemplates({
        machineName: machine.name,
        vmNamespace: input.namespace,
        config,
        primaryAccessMode: input.primaryAccessMode,
        primaryAnnotations: annotations.dataVolume,
      }),
    },
  };
  if (vmSpec.instancetype) vm.spec.instancetype = { ...vmSpec.instancetype };
  if (vmSpec.preference) vm.spec.preference = { ...vmSpec.preference };
  return vm;
}

/**
 * requests = limits (separate objects). None with an instancetype: KubeVirt rejects template
 * resources that conflict with the selected instancetype.
 */
function buildResources(input: VmBuildInput): ResourceRequirements | undefined {
  const res = input.config.vm.resources;
  if (input.config.vm.instancetype || !res) return undefined;
  const list: Record<string, string> = {};
  // With `vcpus.cores` machine-controller's parseResources drops cpu: memory only.
  if (res.cpu !== undefined && !input.config.vm.cores) list.cpu = res.cpu;
  list.memory = res.memory;
  return { requests: { ...list }, limits: { ...list } };
}
