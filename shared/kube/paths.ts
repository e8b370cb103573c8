/**
 * REST paths of the kinds we touch, in one place. Namespaced resources only.
 */
export interface Kind {
  group: string; // '' for core
  version: string;
  plural: string;
  kind: string;
}

export const MACHINE: Kind = { group: 'cluster.k8s.io', version: 'v1alpha1', plural: 'machines', kind: 'Machine' };
export const MACHINE_SET: Kind = { group: 'cluster.k8s.io', version: 'v1alpha1', plural: 'machinesets', kind: 'MachineSet' };
export const MACHINE_DEPLOYMENT: Kind = {
  group: 'cluster.k8s.io',
  version: 'v1alpha1',
  plural: 'machinedeployments',
  kind: 'MachineDeployment',
};
export const VIRTUAL_MACHINE: Kind = { group: 'kubevirt.io', version: 'v1', plural: 'virtualmachines', kind: 'VirtualMachine' };
export const VIRTUAL_MACHINE_INSTANCE: Kind = {
  group: 'kubevirt.io',
  version: 'v1',
  plural: 'virtualmachineinstances',
  kind: 'VirtualMachineInstance',
};
export const DATA_VOLUME: Kind = { group: 'cdi.kubevirt.io', version: 'v1beta1', plural: 'datavolumes', kind: 'DataVolume' };
export const SECRET: Kind = { group: '', version: 'v1', plural: 'secrets', kind: 'Secret' };
export const CONFIG_MAP: Kind = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' };
export const EVENT: Kind = { group: '', version: 'v1', plural: 'events', kind: 'Event' };
export const STORAGE_PROFILE_PATH = (name: string) => `/apis/cdi.kubevirt.io/v1beta1/storageprofiles/${encodeURIComponent(name)}`;
export const STORAGE_CLASS_PATH = (name: string) => `/apis/storage.k8s.io/v1/storageclasses/${encodeURIComponent(name)}`;

export const apiVersionOf = (k: Kind): string => (k.group ? `${k.group}/${k.version}` : k.version);

/** Collection path, e.g. `/apis/kubevirt.io/v1/namespaces/ns/virtualmachines`. */
export function collectionPath(k: Kind, namespace: string): string {
  const prefix = k.group ? `/apis/${k.group}/${k.version}` : `/api/${k.version}`;
  return `${prefix}/namespaces/${encodeURIComponent(namespace)}/${k.plural}`;
}

/** Object path, optionally with a subresource (`status`, `scale`). */
export function objectPath(k: Kind, namespace: string, name: string, subresource?: string): string {
  return `${collectionPath(k, namespace)}/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}`;
}
