/**
 * Infra-cluster storage lookups machine-controller does while building a VM: the primary
 * disk's access mode from CDI's StorageProfile, and region/zone labels from the StorageClass's
 * allowedTopologies. Both are cluster-scoped and change rarely, so results are cached briefly
 * per client — a burst of Machines should not cost two extra requests each.
 */
import type { KubeClient } from '../kube/rest.js';
import { STORAGE_CLASS_PATH, STORAGE_PROFILE_PATH } from '../kube/paths.js';
import { LABEL_TOPOLOGY_REGION, LABEL_TOPOLOGY_ZONE } from '../constants.js';
import { TtlCache } from '../runtime/ttl-cache.js';

const cache = new TtlCache<KubeClient, unknown>(30_000);
const cached = <T>(kube: KubeClient, key: string, load: () => Promise<T>): Promise<T> => cache.get(kube, key, load) as Promise<T>;

/** A storage fault machine-controller reports as a configuration error. */
export class StorageConfigError extends Error {}

/**
 * `ReadWriteMany` when the StorageProfile of `storageClassName` offers it, else `ReadWriteOnce`
 * (machine-controller 8f003c39c). No StorageProfile → configuration error, as upstream.
 */
export function accessModeFromStorageProfile(kube: KubeClient, storageClassName: string): Promise<string> {
  return cached(kube, `sp/${storageClassName}`, async () => {
    const sp = await kube.get<{ status?: { claimPropertySets?: { accessModes?: string[] }[] } }>(STORAGE_PROFILE_PATH(storageClassName));
    if (!sp) {
      throw new StorageConfigError(
        `failed to get value of primaryDiskstorageAccessType: failed to get cdi storageprofile: storageprofiles.cdi.kubevirt.io "${storageClassName}" not found`,
      );
    }
    const rwx = (sp.status?.claimPropertySets ?? []).some((s) => s.accessModes?.includes('ReadWriteMany'));
    return rwx ? 'ReadWriteMany' : 'ReadWriteOnce';
  });
}

/**
 * Region/zone labels from the StorageClass's allowedTopologies: a key with exactly one value
 * becomes a label; scanning stops at the first ambiguous entry (machine-controller's rule).
 * A missing StorageClass yields no labels (CDI will report the real problem on the DataVolume).
 */
export function topologyLabelsFromStorageClass(kube: KubeClient, storageClassName: string): Promise<Record<string, string>> {
  if (!storageClassName) return Promise.resolve({});
  return cached(kube, `sc/${storageClassName}`, async () => {
    const sc = await kube.get<{ allowedTopologies?: { matchLabelExpressions?: { key: string; values?: string[] }[] }[] }>(
      STORAGE_CLASS_PATH(storageClassName),
    );
    const labels: Record<string, string> = {};
    for (const t of sc?.allowedTopologies ?? []) {
      for (const e of t.matchLabelExpressions ?? []) {
        if (e.key !== LABEL_TOPOLOGY_REGION && e.key !== LABEL_TOPOLOGY_ZONE) continue;
        if (e.values?.length !== 1) return labels;
        labels[e.key] = e.values[0];
      }
    }
    return labels;
  });
}
