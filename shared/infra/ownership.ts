/**
 * Ownership: every infra object we create carries the Machine's UID (and namespace/name for
 * humans and for cleanup when only a reference is known). An object without our UID label is
 * someone else's and is never modified, adopted or deleted.
 */
import {
  LABEL_MACHINE_NAME,
  LABEL_MACHINE_NAMESPACE,
  LABEL_MACHINE_UID,
  LABEL_MANAGED_BY,
  LABEL_CLUSTER_NAME,
  MANAGED_BY_VALUE,
} from '../constants.js';
import type { MachineRef } from '../machine/types.js';
import type { VirtualMachine } from '../vm/types.js';

export function ownershipLabels(m: MachineRef, clusterName: string): Record<string, string> {
  const labels: Record<string, string> = {
    [LABEL_MANAGED_BY]: MANAGED_BY_VALUE,
    [LABEL_MACHINE_UID]: m.uid,
    [LABEL_MACHINE_NAMESPACE]: m.namespace,
    [LABEL_MACHINE_NAME]: m.name,
  };
  if (clusterName) labels[LABEL_CLUSTER_NAME] = clusterName;
  return labels;
}

interface Labelled {
  metadata?: { labels?: Record<string, string> };
}

/** True when `obj` carries this Machine's UID label. */
export function isOwnedBy(obj: Labelled, machineUid: string): boolean {
  return obj.metadata?.labels?.[LABEL_MACHINE_UID] === machineUid;
}

/** Label selector for everything of one Machine. */
export const selectorForUid = (uid: string): string => `${LABEL_MACHINE_UID}=${uid}`;
export const selectorForName = (namespace: string, name: string): string =>
  `${LABEL_MACHINE_NAMESPACE}=${namespace},${LABEL_MACHINE_NAME}=${name}`;

/**
 * Adds the ownership labels to the VM, its VMI template and each DataVolume template, so the
 * VMIs and DataVolumes KubeVirt creates from the templates are ours too: the VMI and DataVolume
 * functions (and their ApiServerSources) select on them. The pure builder stays at parity with
 * machine-controller; these labels are our addition on top.
 */
export function withOwnership(vm: VirtualMachine, labels: Record<string, string>): VirtualMachine {
  return {
    ...vm,
    metadata: { ...vm.metadata, labels: { ...(vm.metadata.labels ?? {}), ...labels } },
    spec: {
      ...vm.spec,
      template: {
        ...vm.spec.template,
        metadata: { ...vm.spec.template.metadata, labels: { ...vm.spec.template.metadata.labels, ...labels } },
      },
      dataVolumeTemplates: vm.spec.dataVolumeTemplates.map((t) => {
        const meta = t.metadata as typeof t.metadata & { labels?: Record<string, string> };
        return { ...t, metadata: { ...meta, labels: { ...(meta.labels ?? {}), ...labels } } };
      }),
    },
  };
}
