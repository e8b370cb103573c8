/**
 * Whether a pvc clone's source can be cloned yet, as CDI v1.65.0 decides it
 * (pkg/controller/datavolume/pvc-clone-controller.go):
 * - source PVC missing → `validateCloneAndSourcePVC` leaves the phase as it is and records a
 *   Warning `CloneWithoutSource` "The source pvc <name> doesn't exist"; a watch on PVCs resumes
 *   the clone when it appears;
 * - source PVC present but not populated yet (its DataVolume still importing) → the clone shows
 *   `CloneScheduled` and is requeued (`isSourceReadyToClone`, and the clone populator's Pending
 *   phase, which CDI maps to CloneScheduled);
 * - populated → the clone runs.
 *
 * The simulator has no PVC objects for DataVolumes (their PVC is folded into the DataVolume's
 * status), so a source PVC of a DataVolume exists when the DataVolume does and is populated when
 * it has Succeeded. A plain PVC (not made by a DataVolume) is asked of the API: present means
 * populated; when the simulator may not read PVCs it cannot tell and lets the clone run, as it
 * did before it checked sources.
 */
import { DATA_VOLUME, objectPath } from '../../../shared/kube/paths.js';
import type { KubeApi } from '../kube/api.js';
import { isNotFound, statusOf } from '../kube/api.js';
import type { Informer } from '../kube/informer.js';

export type CloneSourceState = { kind: 'ready' } | { kind: 'missing'; message: string } | { kind: 'not-populated'; message: string };

/** CDI's event reason and message for a clone whose source does not exist. */
export const CLONE_WITHOUT_SOURCE = 'CloneWithoutSource';
export const cloneWithoutSourceMessage = (name: string): string => `The source pvc ${name} doesn't exist`;

export async function cloneSourceState(dv: any, dvs: Informer, api: KubeApi): Promise<CloneSourceState> {
  const src = dv?.spec?.source?.pvc as { namespace?: string; name?: string } | undefined;
  // Snapshot and DataSource clones are not simulated in detail: they run as before.
  if (!src?.name) return { kind: 'ready' };
  const namespace = src.namespace || dv.metadata.namespace;
  let source = dvs.get(namespace, src.name);
  if (!source) source = await getOrUndefined(api, objectPath(DATA_VOLUME, namespace, src.name));
  if (source && !source.metadata?.deletionTimestamp) {
    const phase = source.status?.phase ?? '';
    return phase === 'Succeeded'
      ? { kind: 'ready' }
      : { kind: 'not-populated', message: `source DataVolume ${namespace}/${src.name} is ${phase || 'not started'}` };
  }
  try {
    await api.request('GET', `/api/v1/namespaces/${namespace}/persistentvolumeclaims/${src.name}`);
    return { kind: 'ready' };
  } catch (e) {
    if (isNotFound(e)) return { kind: 'missing', message: cloneWithoutSourceMessage(src.name) };
    if (statusOf(e) === 403) return { kind: 'ready' };
    throw e;
  }
}

async function getOrUndefined(api: KubeApi, path: string): Promise<any> {
  try {
    return await api.request('GET', path);
  } catch (e) {
    if (isNotFound(e) || statusOf(e) === 403) return undefined;
    throw e;
  }
}
