/**
 * Golden images for one Machine, pure: whether the cache applies, what the preflight's answer
 * contributes (content identity, virtual size), the golden this Machine's disks clone and
 * whether they can. Shared by the machine function and `render`.
 */
import {
  buildGoldenDataVolume,
  describeSource,
  goldenKey,
  goldenName,
  goldenSizing,
  isCacheable,
  LABEL_GOLDEN,
  type CloneDisk,
  type ContentIdentity,
  type GoldenDataVolume,
  type GoldenStorage,
  type Sizing,
} from './golden.js';
import { toDataVolumeSource } from './source.js';
import { parseRegistryRef, pinnedRegistryUrl } from './registry-ref.js';
import type { PreflightResult } from '../preflight/image.js';
import type { MachineConfig } from '../providerspec/types.js';
import { secondaryDiskName } from '../vm/data-volumes.js';

/**
 * `IMAGE_CACHE`: on unless `off` (or `false`, `0`): every http/registry disk is a clone of a
 * golden, so an image is downloaded once per storage, not once per Machine (issue 18). `off`
 * builds VMs byte-identical to machine-controller's. `render` passes `defaultOn = false`: it is
 * the tool that shows machine-controller's VM, and shows the function's with `--image-cache on`.
 */
export function imageCacheEnabled(env: NodeJS.ProcessEnv, defaultOn = true): boolean {
  const v = (env.IMAGE_CACHE ?? '').trim().toLowerCase();
  if (v === '') return defaultOn;
  return !(v === 'off' || v === 'false' || v === '0');
}

/** What the preflight learnt about an image that the golden needs. */
export interface ImageFacts {
  /** For a registry image, `checksum` is its manifest digest. */
  content: ContentIdentity;
  /** Bytes of disk the image expands to, when known. */
  virtualSize?: number;
  /** Why this image must not be cached (a registry image whose digest could not be learnt). */
  uncached?: string;
}

/** The facts of a passed preflight: a raw image's length is its virtual size. */
export function factsFrom(r: Extract<PreflightResult, { ok: true }>): ImageFacts {
  const content: ContentIdentity = {};
  if (r.etag !== undefined) content.etag = r.etag;
  if (r.lastModified !== undefined) content.lastModified = r.lastModified;
  if (r.size !== undefined) content.length = r.size;
  if (r.digest !== undefined) content.checksum = r.digest;
  const virtualSize = r.virtualSize ?? (r.format === 'raw' && r.size !== undefined ? r.size : undefined);
  return {
    content,
    ...(virtualSize !== undefined ? { virtualSize } : {}),
    ...(r.uncached !== undefined ? { uncached: r.uncached } : {}),
  };
}

/** Every disk of the Machine that the builder gives the OS image (secondary disks too: machine-controller's quirk). */
export function cloneDisks(config: MachineConfig, machineName = '<machine>'): CloneDisk[] {
  const p = config.vm.primaryDisk;
  return [
    { label: 'primary disk', size: p.size, target: p.storageTarget === 'pvc' ? 'pvc' : 'storage' },
    ...config.vm.secondaryDisks.map((d, i) => ({
      label: `secondary disk ${i} (${secondaryDiskName(machineName, i)})`,
      size: d.size,
      target: 'pvc' as const,
    })),
  ];
}

const storageTargetOf = (config: MachineConfig): 'pvc' | 'storage' => (config.vm.primaryDisk.storageTarget === 'pvc' ? 'pvc' : 'storage');

/** The golden's size for this Machine's disks; undefined for a source the cache leaves alone. */
export function goldenSizingFor(config: MachineConfig, namespace: string, facts: ImageFacts): Sizing | undefined {
  const source = toDataVolumeSource(config.vm.primaryDisk.image, namespace);
  if (!isCacheable(source) || facts.uncached !== undefined) return undefined;
  return goldenSizing({
    ...(facts.virtualSize !== undefined ? { virtualSize: facts.virtualSize } : {}),
    golden: { target: storageTargetOf(config), storageClassName: config.vm.primaryDisk.storageClassName, accessMode: '' },
    disks: cloneDisks(config),
    image: describeSource(source),
  });
}

export type GoldenPlan =
  /** `reason`: why an image the cache would take is not cached (a registry digest not known). */
  | { kind: 'none'; reason?: string }
  | { kind: 'golden'; name: string; namespace: string; dataVolume: GoldenDataVolume }
  | { kind: 'invalid'; message: string };

/** The golden this Machine's disks clone, or why there is none (cache off, pvc source, too small). */
export function planGolden(config: MachineConfig, namespace: string, accessMode: string, facts: ImageFacts): GoldenPlan {
  const source = toDataVolumeSource(config.vm.primaryDisk.image, namespace);
  if (!isCacheable(source)) return { kind: 'none' };
  if (facts.uncached !== undefined) return { kind: 'none', reason: facts.uncached };
  let content = facts.content;
  let importSource: typeof source | undefined;
  if ('registry' in source) {
    // Keyed by the manifest digest, and importing exactly it: without one, a golden keyed by
    // the tag would hand out the tag's old image forever after a re-push.
    const parsed = parseRegistryRef(source.registry.url);
    if (!parsed.ok) return { kind: 'none', reason: parsed.message };
    const digest = parsed.ref.digest ?? facts.content.checksum;
    if (digest === undefined) return { kind: 'none', reason: `the manifest digest of registry image ${source.registry.url} is not known` };
    content = { ...facts.content, checksum: digest };
    importSource = { registry: { ...source.registry, url: pinnedRegistryUrl(parsed.ref, digest) } };
  }
  const storage: GoldenStorage = {
    target: storageTargetOf(config),
    storageClassName: config.vm.primaryDisk.storageClassName,
    accessMode,
  };
  const sizing = goldenSizingFor(config, namespace, facts)!;
  if (!sizing.ok) return { kind: 'invalid', message: sizing.message };
  const name = goldenName(goldenKey({ source, storage, content, usableBytes: sizing.usableBytes }));
  const dataVolume = buildGoldenDataVolume({
    name,
    namespace,
    source,
    ...(importSource ? { importSource } : {}),
    storage,
    content,
    sizing,
    ...(facts.virtualSize !== undefined ? { virtualSize: facts.virtualSize } : {}),
  });
  return { kind: 'golden', name, namespace, dataVolume };
}

/**
 * The golden a VM created earlier clones (its templates' golden label), `null` when it was
 * created without the cache: a live VM keeps the disks it was made with.
 */
export function goldenOfVm(vm: { spec?: { dataVolumeTemplates?: { metadata?: { labels?: Record<string, string> } }[] } }): string | null {
  for (const t of vm.spec?.dataVolumeTemplates ?? []) {
    const g = t.metadata?.labels?.[LABEL_GOLDEN];
    if (g) return g;
  }
  return null;
}
