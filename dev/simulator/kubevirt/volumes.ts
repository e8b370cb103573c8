/**
 * How KubeVirt reads the DataVolumes a VM or VMI uses (pkg/storage/types/dv.go).
 */

/** Ready to be used by a VMI: handleDataVolumes' "continue" phases. */
export function dataVolumeReady(dv: any): boolean {
  const phase = dv?.status?.phase;
  return phase === 'Succeeded' || phase === 'WaitForFirstConsumer' || phase === 'PendingPopulation';
}

/** The DataVolume names a VMI spec's volumes reference. */
export function dataVolumeNames(vmiSpec: any): string[] {
  return (vmiSpec?.volumes ?? []).filter((v: any) => v?.dataVolume?.name).map((v: any) => String(v.dataVolume.name));
}

/**
 * HasDataVolumeErrors: phase Failed, or Running False with reason Error / ImagePullFailed.
 * Returns KubeVirt's error text, or undefined.
 */
export function dataVolumeError(dv: any): string | undefined {
  if (!dv) return undefined;
  if (dv.status?.phase === 'Failed') return `DataVolume ${dv.metadata.name} is in Failed phase`;
  const running = (dv.status?.conditions ?? []).find((c: any) => c.type === 'Running');
  if (running && running.status === 'False' && (running.reason === 'Error' || running.reason === 'ImagePullFailed')) {
    return `DataVolume ${dv.metadata.name} importer has stopped running due to an error: ${running.message ?? ''}`;
  }
  return undefined;
}

/** HasDataVolumeProvisioning for one DV: exists, not done, and bound or not waiting for a consumer. */
export function dataVolumeProvisioning(dv: any): boolean {
  if (!dv) return false;
  const phase = dv.status?.phase;
  if (phase === 'Succeeded' || phase === 'PendingPopulation') return false;
  const bound = (dv.status?.conditions ?? []).some((c: any) => c.type === 'Bound' && c.status === 'True');
  return bound || phase !== 'WaitForFirstConsumer';
}
