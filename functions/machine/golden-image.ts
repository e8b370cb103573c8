/**
 * The image cache in the machine function: an http or registry image is imported once into a
 * golden DataVolume in the infra namespace (shared/image/golden.ts names and builds it), and
 * the Machine's disks are CDI clones of it.
 *
 * Request budget: the golden's create is remembered in-process (per infra API server, namespace
 * and name) for GOLDEN_OK_TTL_MS, and concurrent reconciles share one create, so a burst of
 * Machines of one image costs one extra request in all, not one per Machine.
 */
import {
  buildGoldenDataVolume,
  describeSource,
  goldenKey,
  goldenName,
  goldenSizing,
  isCacheable,
  LABEL_GOLDEN,
  ANN_GOLDEN_SOURCE,
  type CachedSource,
  type CloneDisk,
  type ContentIdentity,
  type GoldenDataVolume,
  type GoldenStorage,
  type Sizing,
} from '../../shared/image/golden.js';
import { toDataVolumeSource } from '../../shared/image/source.js';
import { DATA_VOLUME, collectionPath, objectPath } from '../../shared/kube/paths.js';
import { ApiError, type KubeClient } from '../../shared/kube/rest.js';
import type { PreflightResult } from '../../shared/preflight/index.js';
import type { MachineConfig } from '../../shared/providerspec/types.js';
import { LABEL_MANAGED_BY, MANAGED_BY_VALUE } from '../../shared/constants.js';
import { secondaryDiskName } from '../../shared/vm/data-volumes.js';

/**
 * `IMAGE_CACHE`: `on` clones every http/registry disk from a golden; `off` (the default for
 * now) builds VMs byte-identical to machine-controller's. Off by default until a failed golden
 * import is reported on the Machines waiting on it (issue 18's next piece): until then a clone
 * of a golden that cannot be imported would wait without an error on its Machine.
 */
export function imageCacheEnabled(env: NodeJS.ProcessEnv): boolean {
  const v = (env.IMAGE_CACHE ?? '').trim().toLowerCase();
  return v === 'on' || v === 'true' || v === '1';
}

/** What the preflight learnt about an image that the golden needs. */
export interface ImageFacts {
  content: ContentIdentity;
  /** Bytes of disk the image expands to, when known. */
  virtualSize?: number;
}

/** The facts of a passed preflight: a raw image's length is its virtual size. */
export function factsFrom(r: Extract<PreflightResult, { ok: true }>): ImageFacts {
  const content: ContentIdentity = {};
  if (r.etag !== undefined) content.etag = r.etag;
  if (r.lastModified !== undefined) content.lastModified = r.lastModified;
  if (r.size !== undefined) content.length = r.size;
  const virtualSize = r.virtualSize ?? (r.format === 'raw' && r.size !== undefined ? r.size : undefined);
  return virtualSize !== undefined ? { content, virtualSize } : { content };
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
  if (!isCacheable(source)) return undefined;
  return goldenSizing({
    ...(facts.virtualSize !== undefined ? { virtualSize: facts.virtualSize } : {}),
    golden: { target: storageTargetOf(config), storageClassName: config.vm.primaryDisk.storageClassName, accessMode: '' },
    disks: cloneDisks(config),
    image: describeSource(source),
  });
}

export type GoldenPlan =
  | { kind: 'none' }
  | { kind: 'golden'; name: string; namespace: string; dataVolume: GoldenDataVolume }
  | { kind: 'invalid'; message: string };

/** The golden this Machine's disks clone, or why there is none (cache off, pvc source, too small). */
export function planGolden(config: MachineConfig, namespace: string, accessMode: string, facts: ImageFacts): GoldenPlan {
  const source = toDataVolumeSource(config.vm.primaryDisk.image, namespace);
  if (!isCacheable(source)) return { kind: 'none' };
  const storage: GoldenStorage = {
    target: storageTargetOf(config),
    storageClassName: config.vm.primaryDisk.storageClassName,
    accessMode,
  };
  const sizing = goldenSizingFor(config, namespace, facts)!;
  if (!sizing.ok) return { kind: 'invalid', message: sizing.message };
  const name = goldenName(goldenKey({ source, storage, content: facts.content, usableBytes: sizing.usableBytes }));
  const dataVolume = buildGoldenDataVolume({
    name,
    namespace,
    source,
    storage,
    content: facts.content,
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

const GOLDEN_OK_TTL_MS = 60_000;
const goldenOk = new Map<string, { until: number; done: Promise<EnsureResult> }>();

export type EnsureResult = { kind: 'ok'; created: boolean } | { kind: 'foreign' };

/**
 * Makes the golden DataVolume exist: POST (409 AlreadyExists: someone made it first — the name
 * is the key, so it is the same golden; read once to check it is ours). A DataVolume of that
 * name that is not ours is never cloned from: its content is someone else's.
 */
export function ensureGolden(infra: KubeClient, dv: GoldenDataVolume): Promise<EnsureResult> {
  const key = `${infra.server}|${dv.metadata.namespace}|${dv.metadata.name}`;
  const hit = goldenOk.get(key);
  if (hit && hit.until >= Date.now()) return hit.done;
  const done = createOrVerify(infra, dv);
  if (goldenOk.size > 1000) goldenOk.clear();
  goldenOk.set(key, { until: Date.now() + GOLDEN_OK_TTL_MS, done });
  // Only a success is remembered: a failure (or a foreign object) is asked again next time.
  done.then(
    (r) => r.kind !== 'ok' && goldenOk.delete(key),
    () => goldenOk.delete(key),
  );
  return done;
}

async function createOrVerify(infra: KubeClient, dv: GoldenDataVolume): Promise<EnsureResult> {
  const ns = dv.metadata.namespace;
  try {
    await infra.create(collectionPath(DATA_VOLUME, ns), dv);
    return { kind: 'ok', created: true };
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 409)) throw e;
  }
  const existing = await infra.get<GoldenDataVolume>(objectPath(DATA_VOLUME, ns, dv.metadata.name));
  // Deleted between the 409 and the read (a garbage collection): the next reconcile creates it.
  if (!existing) {
    const path = objectPath(DATA_VOLUME, ns, dv.metadata.name);
    throw new ApiError(503, 'ServiceUnavailable', 'the golden image DataVolume was deleted while being created', 'GET', path);
  }
  const labels = existing.metadata.labels ?? {};
  const ours =
    labels[LABEL_MANAGED_BY] === MANAGED_BY_VALUE &&
    labels[LABEL_GOLDEN] === dv.metadata.name &&
    existing.metadata.annotations?.[ANN_GOLDEN_SOURCE] === dv.metadata.annotations[ANN_GOLDEN_SOURCE];
  return ours ? { kind: 'ok', created: false } : { kind: 'foreign' };
}

export type { CachedSource };
