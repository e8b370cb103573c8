/**
 * The primary disk's image → CDI DataVolume `spec.source`, exactly as machine-controller's
 * `parseOSImageSource` does it (reference: machine-controller-kubevirt.md §3.3).
 */
import type { DataVolumeSource, ImageSpec } from '../providerspec/types.js';
import { parseRequestURI } from './request-uri.js';

/** URL schemes that make an `osImage` with no explicit `source` a registry import. */
const REGISTRY_SCHEMES = new Set(['docker', 'oci']);

/**
 * Turns an image spec into the DataVolume source machine-controller would emit.
 *
 * - `http` → `{http: {url, extraHeaders?, secretRef?}}` (optional keys only when non-empty)
 * - `registry` → `{registry: {url, pullMethod}}`
 * - `pvc` → `{pvc: {namespace, name}}` from `ns/name`, or a bare name in `vmNamespace`
 * - anything else (the legacy API, `source` empty): if Go's `url.ParseRequestURI` accepts
 *   `osImage`, scheme `docker`/`oci` → registry, any other scheme (or an absolute path) → http;
 *   otherwise the pvc rule. Note `oci-archive://…` is http here, as in machine-controller:
 *   only an explicit `source: registry` makes it a registry import.
 *
 * @param vmNamespace namespace of the VirtualMachine; the clone source for a bare PVC name.
 */
export function toDataVolumeSource(image: ImageSpec, vmNamespace: string): DataVolumeSource {
  switch (image.source) {
    case 'http':
      return httpSource(image);
    case 'registry':
      return registrySource(image);
    case 'pvc':
      return pvcSource(image.osImage, vmNamespace);
    default: {
      const uri = parseRequestURI(image.osImage);
      if (!uri.ok) return pvcSource(image.osImage, vmNamespace);
      return REGISTRY_SCHEMES.has(uri.scheme) ? registrySource(image) : httpSource(image);
    }
  }
}

function httpSource(image: ImageSpec): DataVolumeSource {
  const http: { url: string; extraHeaders?: string[]; secretRef?: string } = { url: image.osImage };
  // Copied so the returned object never aliases the caller's spec.
  if (image.extraHeaders && image.extraHeaders.length > 0) http.extraHeaders = [...image.extraHeaders];
  if (image.dataVolumeSecretRef) http.secretRef = image.dataVolumeSecretRef;
  return { http };
}

function registrySource(image: ImageSpec): DataVolumeSource {
  return { registry: { url: image.osImage, pullMethod: image.pullMethod } };
}

/**
 * Go's `strings.Split(osImage, "/")` with `len >= 2` → `p[0]`/`p[1]` (anything after a
 * second '/' is dropped, as upstream does); otherwise the whole string is a name in the
 * VM's namespace.
 */
function pvcSource(osImage: string, vmNamespace: string): DataVolumeSource {
  const parts = osImage.split('/');
  if (parts.length >= 2) return { pvc: { namespace: parts[0]!, name: parts[1]! } };
  return { pvc: { namespace: vmNamespace, name: osImage } };
}

// The VM builder needs both halves of a DataVolume template; one import for both.
export { dataVolumeStorage } from './storage.js';
export type { DiskStorageInput, StorageRequest } from './storage.js';
