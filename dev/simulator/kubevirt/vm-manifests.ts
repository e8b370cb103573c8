/**
 * Objects virt-controller creates for a VirtualMachine: its DataVolumes (CreateDataVolumeManifest /
 * GenerateDataVolumeFromTemplate) and its VMI (setupVMIFromVM), each controlled by the VM.
 */

export const CREATED_BY_LABEL = 'kubevirt.io/created-by';

export function controllerRef(vm: any): Record<string, unknown> {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    name: vm.metadata.name,
    uid: vm.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The controller ownerReference of `obj`, if any. */
export function controllerOf(obj: any): any | undefined {
  return (obj?.metadata?.ownerReferences ?? []).find((r: any) => r?.controller === true);
}

export const isControlledBy = (obj: any, uid: string): boolean => controllerOf(obj)?.uid === uid;

/** A DataVolume from a dataVolumeTemplates entry: template labels/annotations, the VM's uid label, owned by the VM. */
export function dataVolumeFromTemplate(vm: any, template: any): Record<string, unknown> {
  const meta = template.metadata ?? {};
  const spec = structuredClone(template.spec ?? {});
  // A clone source without a namespace means the VM's namespace.
  if (spec.source?.pvc && !spec.source.pvc.namespace) spec.source.pvc.namespace = vm.metadata.namespace;
  const priorityClassName = vm.spec?.template?.spec?.priorityClassName;
  if (!spec.priorityClassName && priorityClassName) spec.priorityClassName = priorityClassName;
  return {
    apiVersion: 'cdi.kubevirt.io/v1beta1',
    kind: 'DataVolume',
    metadata: {
      name: meta.name,
      namespace: vm.metadata.namespace,
      labels: { ...(meta.labels ?? {}), [CREATED_BY_LABEL]: vm.metadata.uid },
      annotations: { ...(meta.annotations ?? {}) },
      ownerReferences: [controllerRef(vm)],
    },
    spec,
  };
}

/** The VMI for a VM: same name, the template's metadata and spec, owned by the VM. */
export function vmiFromVm(vm: any): Record<string, unknown> {
  const tmpl = vm.spec?.template ?? {};
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: {
      name: vm.metadata.name,
      namespace: vm.metadata.namespace,
      labels: { ...(tmpl.metadata?.labels ?? {}) },
      annotations: { ...(tmpl.metadata?.annotations ?? {}) },
      ownerReferences: [controllerRef(vm)],
    },
    spec: structuredClone(tmpl.spec ?? {}),
  };
}
