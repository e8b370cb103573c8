/**
 * Golden images: an http or registry image is imported once per (source, storage, content)
 * into a "golden" DataVolume in the infra namespace, and every Machine's disk is a CDI clone
 * of it. Pure: the key and its name, the golden DataVolume, its size, and the clone sources.
 *
 * Why a deterministic name: the create is then idempotent (409 AlreadyExists = someone made it
 * first), so any burst of Machines of one image yields exactly one golden, with no lock.
 *
 * Why `source.pvc` (the golden DataVolume's PVC, same name, same namespace) rather than
 * `sourceRef` to a DataSource: CDI's pvc-clone controller (v1.65.0,
 * pkg/controller/datavolume/pvc-clone-controller.go) already waits for such a source — a
 * missing PVC leaves the clone pending with a `CloneWithoutSource` event and a watch that
 * resumes it when the PVC appears; a PVC still being imported keeps it `CloneScheduled`
 * (`isSourceReadyToClone`: not populated yet) — so it needs no second object (a DataSource,
 * which has no status subresource and needs its own RBAC) and no request beyond the golden's
 * create. Same namespace, so no cross-namespace clone token or `datavolumes/source` grant in
 * another namespace.
 */
import { createHash } from 'node:crypto';
import { LABEL_MANAGED_BY, MANAGED_BY_VALUE } from '../constants.js';
import { parseQuantity } from '../providerspec/quantity.js';
import type { DataVolumeSource } from '../providerspec/types.js';
import { redactUrl } from '../preflight/ssrf.js';
import { parseRegistryRef } from './registry-ref.js';

/** On the golden DataVolume (its own name) and on every clone template (the golden it clones). */
export const LABEL_GOLDEN = 'kubevirt-machine-functions.io/golden-image';
/** The image source, redacted of user info and query (they may carry credentials). */
export const ANN_GOLDEN_SOURCE = 'kubevirt-machine-functions.io/golden-source';
/**
 * What the preflight learnt about the content (JSON: etag, lastModified, length, checksum —
 * for a registry image its manifest digest, which its `spec.source` URL is pinned to).
 */
export const ANN_GOLDEN_CONTENT = 'kubevirt-machine-functions.io/golden-content';
/** The disk size the golden was made for, in bytes (virtual size of the image, when known). */
export const ANN_GOLDEN_VIRTUAL_SIZE = 'kubevirt-machine-functions.io/golden-virtual-size';
/**
 * A golden has no consumer pod: on a WaitForFirstConsumer storage class it would wait forever
 * without this (CDI doc/waitforfirstconsumer-storage-handling.md).
 */
const ANN_BIND_IMMEDIATE = 'cdi.kubevirt.io/storage.bind.immediate.requested';
/** CDI 1.55–1.61 may garbage-collect a DataVolume after success (reference §3): never the golden. */
const ANN_DELETE_AFTER_COMPLETION = 'cdi.kubevirt.io/storage.deleteAfterCompletion';

export const GOLDEN_NAME_PREFIX = 'kmf-golden-';

/**
 * CDI's default filesystem overhead: `DefaultGlobalOverhead = "0.06"` in CDI v1.65.0
 * (pkg/common/common.go; older releases used 0.055). A cluster may set another global or
 * per-StorageClass value in CDIConfig; it only matters here for `spec.pvc` disks, whose size
 * CDI does not inflate (see goldenSizing).
 */
export const CDI_DEFAULT_FILESYSTEM_OVERHEAD = 0.06;
const MiB = 1024 * 1024;

/** What identifies the bytes at the source, as far as the preflight could tell. */
export interface ContentIdentity {
  etag?: string;
  lastModified?: string;
  /** The file's length in bytes (Content-Length / Content-Range total). */
  length?: number;
  /** `algo:hex`, where the source gives one: a registry image's manifest digest. */
  checksum?: string;
}

/** The storage parameters of the disk the golden is cloned into (the Machine's primary disk). */
export interface GoldenStorage {
  /** `storage` (CDI renders from the StorageProfile, volume mode included) or `pvc` (Filesystem). */
  target: 'storage' | 'pvc';
  storageClassName: string;
  accessMode: string;
}

/** A disk of the Machine that will be a clone of the golden. */
export interface CloneDisk {
  /** For messages: `primary disk`, `secondary disk 0`. */
  label: string;
  /** Kubernetes quantity as asked for. */
  size: string;
  target: 'storage' | 'pvc';
}

/** A source the cache applies to; pvc sources are clones already. */
export type CachedSource = Extract<DataVolumeSource, { http: unknown } | { registry: unknown }>;

export function isCacheable(source: DataVolumeSource): source is CachedSource {
  return 'http' in source || 'registry' in source;
}

/** The volume mode a target gets: `spec.pvc` defaults to Filesystem, `spec.storage` asks the StorageProfile. */
const volumeModeOf = (target: 'storage' | 'pvc'): string => (target === 'pvc' ? 'Filesystem' : 'FromStorageProfile');

export type Sizing =
  | {
      ok: true;
      /** Usable bytes the golden provides (a whole number of MiB); its clones need at least this much. */
      usableBytes: number;
      /** `spec.storage`/`spec.pvc` `resources.requests.storage` of the golden DataVolume. */
      request: string;
      /** Whether the size came from the image (true) or the Machine's smallest disk (false). */
      fromImage: boolean;
    }
  | { ok: false; message: string };

const ceilTo = (n: number, unit: number): number => Math.ceil(n / unit) * unit;
const floorTo = (n: number, unit: number): number => Math.floor(n / unit) * unit;

/** Bytes as a reader wants them: `10 GiB (10737418240 bytes)`, in the largest unit that is exact. */
export function describeBytes(bytes: number): string {
  for (const [unit, name] of [
    [1024 ** 4, 'TiB'],
    [1024 ** 3, 'GiB'],
    [MiB, 'MiB'],
  ] as const) {
    if (bytes >= unit && bytes % unit === 0) return `${bytes / unit} ${name} (${bytes} bytes)`;
  }
  return bytes >= MiB ? `${(bytes / MiB).toFixed(2)} MiB (${bytes} bytes)` : `${bytes} bytes`;
}

/**
 * How large the golden is, and whether every disk that clones it can hold it.
 *
 * CDI's size arithmetic (v1.65.0): a `spec.storage` DataVolume on a Filesystem volume gets a PVC
 * of `GetRequiredSpace(overhead, size)` = size rounded up to 1 MiB × (1 + overhead)
 * (pkg/controller/datavolume/util.go renderPvcSpecVolumeSize → InflateSizeWithOverhead;
 * pkg/util/util.go GetRequiredSpace), and the importer refuses an image whose virtual size
 * exceeds the space left after that overhead ("DataVolume too small to contain image"). A
 * `spec.pvc` DataVolume's PVC is exactly what it asks for. A clone's PVC must be at least the
 * source's. So, with V the virtual size rounded up to 1 MiB and o the overhead:
 * - the golden holds V usable bytes: `spec.storage` asks for V (CDI adds o), `spec.pvc` for
 *   V × (1 + o) rounded up to 1 MiB;
 * - a `spec.storage` disk needs at least V (CDI inflates it by the same o), a `spec.pvc` disk at
 *   least V × (1 + o).
 * When the header does not state a virtual size (raw without a length, compressed streams,
 * vhdx, registry images), the golden is as large as the Machine's smallest disk allows, so it
 * is never larger than any disk cloned from it; the size is then part of the key.
 */
export function goldenSizing(input: {
  virtualSize?: number;
  golden: GoldenStorage;
  disks: CloneDisk[];
  overhead?: number;
  /** For the message: the image, redacted. */
  image: string;
}): Sizing {
  const o = input.overhead ?? CDI_DEFAULT_FILESYSTEM_OVERHEAD;
  const bytes = input.disks.map((d) => ({ ...d, bytes: Math.floor(parseQuantity(d.size).approx) }));
  // Usable bytes a disk of this target can take from the golden.
  const capacity = (d: { target: 'storage' | 'pvc'; bytes: number }): number =>
    d.target === 'storage' ? floorTo(d.bytes, MiB) : floorTo(floorTo(d.bytes, MiB) / (1 + o), MiB);
  const needFor = (target: 'storage' | 'pvc', usable: number): number => (target === 'storage' ? usable : ceilTo(usable * (1 + o), MiB));

  let usable: number;
  const fromImage = input.virtualSize !== undefined && input.virtualSize > 0;
  if (fromImage) {
    usable = ceilTo(input.virtualSize!, MiB);
    for (const d of bytes) {
      const need = needFor(d.target, usable);
      if (d.bytes < need) {
        const overheadNote = d.target === 'pvc' ? ` plus CDI's filesystem overhead of ${Math.round(o * 1000) / 10}%` : '';
        return {
          ok: false,
          message:
            `the ${d.label} asks for ${d.size} = ${describeBytes(d.bytes)}, but image ${input.image} needs at least ` +
            `${describeBytes(need)} (its virtual size ${describeBytes(input.virtualSize!)}${overheadNote}); ` +
            `ask for at least ${Math.ceil(need / MiB)}Mi`,
        };
      }
    }
  } else {
    usable = Math.min(...bytes.map(capacity));
    if (!(usable >= MiB)) {
      // CDI refuses DataVolumes under 1 MiB ("size should be at least 1MiB").
      return { ok: false, message: `the Machine's smallest disk is below the 1Mi CDI accepts; image ${input.image} cannot fit` };
    }
  }
  const request = `${needFor(input.golden.target, usable) / MiB}Mi`;
  return { ok: true, usableBytes: usable, request, fromImage };
}

/** The key's source part: what CDI downloads and with which credentials (by reference only). */
function sourceKey(source: CachedSource): Record<string, unknown> {
  if ('http' in source) {
    const { url, extraHeaders, secretRef } = source.http;
    return { http: { url, extraHeaders: extraHeaders ?? [], secretRef: secretRef ?? '' } };
  }
  return { registry: { url: source.registry.url, pullMethod: source.registry.pullMethod } };
}

export interface GoldenKeyInput {
  source: CachedSource;
  storage: GoldenStorage;
  content: ContentIdentity;
  /** Usable bytes (goldenSizing's usableBytes): distinct goldens for distinct sizes. */
  usableBytes: number;
}

/**
 * The canonical key: fixed member order, absent content fields as null, so equal inputs give
 * equal strings on every process. Versioned so a later change of the key cannot alias.
 */
export function goldenKey(input: GoldenKeyInput): string {
  const c = input.content;
  return JSON.stringify({
    v: 1,
    source: sourceKey(input.source),
    storage: {
      target: input.storage.target,
      storageClassName: input.storage.storageClassName,
      accessMode: input.storage.accessMode,
      volumeMode: volumeModeOf(input.storage.target),
    },
    content: { etag: c.etag ?? null, lastModified: c.lastModified ?? null, length: c.length ?? null, checksum: c.checksum ?? null },
    usableBytes: input.usableBytes,
  });
}

/**
 * `kmf-golden-<20 hex of sha256(key)>`: a DNS-1123 label (31 characters) that names the
 * DataVolume and its PVC. 80 bits: a collision needs ~10^12 distinct images in one namespace.
 * The key may hold extraHeaders (credentials): only its hash leaves this function.
 */
export function goldenName(key: string): string {
  return GOLDEN_NAME_PREFIX + createHash('sha256').update(key).digest('hex').slice(0, 20);
}

/**
 * The source, for an annotation or a message: URLs without user info or query. A valid
 * `docker://` reference has neither, and is shown as written: WHATWG URL parsing would read
 * `docker://ubuntu@sha256:…` as user `ubuntu` at host `sha256`.
 */
export function describeSource(source: CachedSource): string {
  if ('http' in source) return redactUrl(source.http.url);
  return parseRegistryRef(source.registry.url).ok ? source.registry.url : redactUrl(source.registry.url);
}

export interface GoldenDataVolumeInput {
  name: string;
  namespace: string;
  source: CachedSource;
  storage: GoldenStorage;
  content: ContentIdentity;
  sizing: Extract<Sizing, { ok: true }>;
  /** The virtual size the preflight read, when it did. */
  virtualSize?: number;
  /**
   * What the golden imports when not `source` itself: a registry image pinned to the digest
   * its key names (`docker://name@sha256:…`), so a tag moved between the preflight and the
   * import cannot put other bytes under this name. `source` still names it in the annotation.
   */
  importSource?: CachedSource;
}

export interface GoldenDataVolume {
  apiVersion: 'cdi.kubevirt.io/v1beta1';
  kind: 'DataVolume';
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: {
    source: CachedSource;
    storage?: GoldenStorageBody;
    pvc?: GoldenStorageBody;
  };
}

interface GoldenStorageBody {
  accessModes: string[];
  resources: { requests: { storage: string } };
  storageClassName: string;
}

/**
 * The golden DataVolume. Labelled managed-by (our sources and the resync see it) and with the
 * golden label, but with no Machine labels: it belongs to no single Machine, so the orphan
 * collection (which deletes what names a Machine that is gone) leaves it alone.
 */
export function buildGoldenDataVolume(input: GoldenDataVolumeInput): GoldenDataVolume {
  const content: Record<string, string | number> = {};
  for (const k of ['etag', 'lastModified', 'length', 'checksum'] as const) {
    if (input.content[k] !== undefined) content[k] = input.content[k]!;
  }
  // The class exactly as the Machine's primary template carries it (even empty, as
  // machine-controller emits it): CDI's efficient clones need source and target in one class.
  const body: GoldenStorageBody = {
    accessModes: [input.storage.accessMode],
    resources: { requests: { storage: input.sizing.request } },
    storageClassName: input.storage.storageClassName,
  };
  const annotations: Record<string, string> = {
    [ANN_GOLDEN_SOURCE]: describeSource(input.source),
    [ANN_GOLDEN_CONTENT]: JSON.stringify(content),
    [ANN_BIND_IMMEDIATE]: 'true',
    [ANN_DELETE_AFTER_COMPLETION]: 'false',
  };
  if (input.virtualSize !== undefined) annotations[ANN_GOLDEN_VIRTUAL_SIZE] = String(input.virtualSize);
  return {
    apiVersion: 'cdi.kubevirt.io/v1beta1',
    kind: 'DataVolume',
    metadata: {
      name: input.name,
      namespace: input.namespace,
      labels: { [LABEL_MANAGED_BY]: MANAGED_BY_VALUE, [LABEL_GOLDEN]: input.name },
      annotations,
    },
    spec: {
      source: structuredClone(input.importSource ?? input.source),
      ...(input.storage.target === 'pvc' ? { pvc: body } : { storage: body }),
    },
  };
}

interface TemplateLike {
  metadata: { name: string; labels?: Record<string, string>; [k: string]: unknown };
  spec: { source: DataVolumeSource; [k: string]: unknown };
}

/**
 * The VM's DataVolume templates with every http/registry source replaced by a clone of the
 * golden (`source.pvc`, same namespace) and labelled with the golden's name, so the Machines
 * waiting on a golden can be found by label. Sizes, classes and access modes are the Machine's
 * own. pvc sources are left as they are. Returns new objects.
 */
export function cloneFromGolden<T extends TemplateLike>(templates: T[], golden: { namespace: string; name: string }): T[] {
  return templates.map((t) => {
    if (!isCacheable(t.spec.source)) return t;
    return {
      ...t,
      metadata: { ...t.metadata, labels: { ...(t.metadata.labels ?? {}), [LABEL_GOLDEN]: golden.name } },
      spec: { ...t.spec, source: { pvc: { namespace: golden.namespace, name: golden.name } } },
    };
  });
}

/**
 * When the resync last saw the golden needed (RFC 3339): a clone still reading it, or a VM whose
 * template clones it. On the golden itself, not in memory, so a restarted or scaled-out resync
 * keeps counting from the same moment (functions/resync/golden-gc.ts).
 */
export const ANN_GOLDEN_LAST_NEEDED = 'kubevirt-machine-functions.io/golden-last-needed';
/** When `machine.image.cached` was sent for this golden (claimed before the send: once per golden). */
export const ANN_GOLDEN_CACHED = 'kubevirt-machine-functions.io/golden-cached';

/** The golden DataVolume itself (not a clone of it): its golden label names itself, and it is ours. */
export function isGoldenDataVolume(dv: { metadata: { name: string; labels?: Record<string, string> } }): boolean {
  const labels = dv.metadata.labels ?? {};
  return labels[LABEL_GOLDEN] === dv.metadata.name && labels[LABEL_MANAGED_BY] === MANAGED_BY_VALUE;
}
