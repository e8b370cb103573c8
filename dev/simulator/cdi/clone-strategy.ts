/**
 * How CDI v1.65.0 clones a pvc source, for the storage the simulator sees
 * (pkg/controller/clone/planner.go computeStrategyForSourcePVC):
 * - the strategy is the CDI CR's `cloneStrategyOverride`, else the target storage class's
 *   StorageProfile `status.cloneStrategy`, else `snapshot`;
 * - `snapshot` needs a VolumeSnapshotClass for the source's driver; without one CDI falls back to
 *   host-assisted (`fallbackToHostAssisted(…, NoVolumeSnapshotClass, …)`). The simulator runs no
 *   snapshot controller and the stack installs no VolumeSnapshotClass, so `snapshot` is `copy`;
 * - `csi-clone` (and snapshot) also need source and target on one provisioner
 *   (validateAdvancedClonePVC: otherwise NoProvisionerMatch → host-assisted): here, one storage
 *   class.
 * A `csi-clone` is the CSI driver's own volume clone (pkg/controller/clone/csi-clone.go: a PVC
 * whose dataSource is the source PVC): no pod copies anything, the DataVolume goes
 * `CSICloneInProgress` (populatorPhaseMap in datavolume/clone-controller-base.go) → Succeeded.
 * A host-assisted clone (`copy`, host-clone.go) runs a source pod and an upload pod that copy
 * the bytes, `CloneInProgress` with the source pod's progress metric.
 * The simulator has no CDI CR: the override is not read.
 */
import type { KubeApi } from '../kube/api.js';
import { isNotFound, statusOf } from '../kube/api.js';
import type { Informer } from '../kube/informer.js';

export type CloneStrategy = 'csi-clone' | 'copy';

const classOf = (dv: any): string | undefined => dv?.spec?.storage?.storageClassName ?? dv?.spec?.pvc?.storageClassName ?? undefined;

export async function cloneStrategyOf(dv: any, dvs: Informer, api: KubeApi): Promise<CloneStrategy> {
  const cls = classOf(dv);
  if (!cls) return 'copy';
  let profile: any;
  try {
    profile = await api.request('GET', `/apis/cdi.kubevirt.io/v1beta1/storageprofiles/${cls}`);
  } catch (e) {
    if (isNotFound(e) || statusOf(e) === 403) return 'copy';
    throw e;
  }
  if (profile?.status?.cloneStrategy !== 'csi-clone') return 'copy';
  const src = dv.spec?.source?.pvc as { namespace?: string; name?: string } | undefined;
  const source = src?.name ? dvs.get(src.namespace || dv.metadata.namespace, src.name) : undefined;
  // A source PVC not made by a DataVolume: the simulator cannot see its class; CDI would compare provisioners.
  if (source && classOf(source) !== cls) return 'copy';
  return 'csi-clone';
}
