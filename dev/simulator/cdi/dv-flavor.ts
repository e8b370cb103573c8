/**
 * Which CDI controller handles a DataVolume (import, clone, upload) and the phase names and
 * completion message that go with it.
 */
import { MISSING_IMAGE_MARKER } from '../hooks.js';
import { cloneComplete, importComplete, type RunningState } from './dv-status.js';

export type SourceKind = 'http' | 'registry' | 'clone' | 'upload' | 'blank' | 'other';

export interface Flavor {
  source: SourceKind;
  scheduledPhase: string;
  inProgressPhase: string;
  completion: () => RunningState;
}

export function sourceKindOf(dv: any): SourceKind {
  const src = dv?.spec?.source ?? {};
  if (src.http) return 'http';
  if (src.registry) return 'registry';
  if (src.pvc || src.snapshot || dv?.spec?.sourceRef) return 'clone';
  if (src.upload) return 'upload';
  if (src.blank) return 'blank';
  return 'other'; // s3, gcs, imageio, vddk: simulated like a registry import
}

export function flavorOf(dv: any): Flavor {
  const source = sourceKindOf(dv);
  switch (source) {
    case 'clone':
      return { source, scheduledPhase: 'CloneScheduled', inProgressPhase: 'CloneInProgress', completion: cloneComplete };
    case 'upload':
      return { source, scheduledPhase: 'UploadScheduled', inProgressPhase: 'UploadReady', completion: importComplete };
    default:
      return { source, scheduledPhase: 'ImportScheduled', inProgressPhase: 'ImportInProgress', completion: importComplete };
  }
}

/** Phases in which the simulated worker pod (importer, clone, upload server) is running or due. */
export function workerPhase(phase: string): boolean {
  return ['ImportScheduled', 'ImportInProgress', 'CloneScheduled', 'CloneInProgress', 'UploadScheduled'].includes(phase);
}

/** `docker://quay.io/org/img:tag` → `quay.io/org/img:tag` (what the pod's container image would be). */
export function registryImage(url: string): string {
  return url.replace(/^[a-z-]+:\/\//, '');
}

/** Test hook: a registry URL containing `notfound` names an image that does not exist. */
export const isMissingImage = (url: string): boolean => url.includes(MISSING_IMAGE_MARKER);

/**
 * containers/image's error for a missing manifest, wrapped as CDI's importer wraps registry
 * read errors (pullMethod pod: the importer itself pulls, and fails with this message).
 */
export function missingManifestMessage(image: string): string {
  // `name@sha256:…` (a golden pinned to its digest): the digest is the reference; its ':' is not a tag's.
  const at = image.indexOf('@');
  const named = at >= 0 ? image.slice(0, at) : image;
  const slash = named.lastIndexOf('/');
  const colon = named.lastIndexOf(':');
  const [repo, tag] =
    at >= 0 ? [named, image.slice(at + 1)] : colon > slash ? [named.slice(0, colon), named.slice(colon + 1)] : [named, 'latest'];
  return (
    'Unable to process data: Unable to transfer source data to scratch space: Failed to read registry image: ' +
    `Error retrieving image: initializing source docker://${image}: reading manifest ${tag} in ${repo}: manifest unknown`
  );
}
