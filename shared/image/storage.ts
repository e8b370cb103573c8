/**
 * The size/class/access-mode block of a DataVolume template, in the shape machine-controller
 * emits it (reference: machine-controller-kubevirt.md §3.2).
 */

/** What a disk contributes to its DataVolume's storage request. */
export interface DiskStorageInput {
  /** Kubernetes quantity, e.g. `10Gi`. */
  size: string;
  /** Emitted even when empty, as machine-controller does (it always sets the pointer). */
  storageClassName: string;
  /** e.g. `ReadWriteOnce`; for secondary disks machine-controller passes the primary's mode. */
  accessMode: string;
}

/** `spec.pvc` / `spec.storage` body: the fields machine-controller sets, nothing more. */
export interface StorageRequest {
  accessModes: string[];
  resources: { requests: { storage: string } };
  storageClassName: string;
}

/**
 * Builds `{pvc: …}` (storageTarget `pvc`, and every secondary disk) or `{storage: …}`
 * (the primary disk's default). Returns a fresh object on every call.
 */
export function dataVolumeStorage(disk: DiskStorageInput, target: 'pvc'): { pvc: StorageRequest };
export function dataVolumeStorage(disk: DiskStorageInput, target: 'storage'): { storage: StorageRequest };
export function dataVolumeStorage(disk: DiskStorageInput, target: 'pvc' | 'storage'): { pvc: StorageRequest } | { storage: StorageRequest };
export function dataVolumeStorage(
  disk: DiskStorageInput,
  target: 'pvc' | 'storage',
): { pvc: StorageRequest } | { storage: StorageRequest } {
  // Key order follows Go's PersistentVolumeClaimSpec so rendered YAML reads like upstream's.
  const request: StorageRequest = {
    accessModes: [disk.accessMode],
    resources: { requests: { storage: disk.size } },
    storageClassName: disk.storageClassName,
  };
  return target === 'pvc' ? { pvc: request } : { storage: request };
}
