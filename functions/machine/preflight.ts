/**
 * What the machine function checks before it creates anything: the image (reachable, a format
 * CDI imports, not an SSRF target) and that the Machines' cluster and the infra cluster do not
 * share service/pod ranges (machine-controller's KubeVirt guide: overlapping ranges break the
 * guest's DNS ClusterIP). Either failure is reported on the Machine and nothing is created.
 */
import type { KubeClient } from '../../shared/kube/rest.js';
import { toDataVolumeSource } from '../../shared/image/source.js';
import { checkCidrOverlap, clusterCidrs, cidrConfigFromEnv, preflightImage, type ClusterCidrsFound } from '../../shared/preflight/index.js';
import type { DataVolumeSource, MachineConfig } from '../../shared/providerspec/types.js';
import { TtlCache } from '../../shared/runtime/ttl-cache.js';
import { infraNamespace, type ReconcileContext } from './context.js';
import { factsFrom, goldenSizingFor, imageCacheEnabled, type ImageFacts } from '../../shared/image/golden-plan.js';
import { describeSource } from '../../shared/image/golden.js';

export type PreflightOutcome = { ok: true } | { ok: false; permanent: boolean; reason: string; message: string };

const cidrCache = new TtlCache<KubeClient, ClusterCidrsFound>(60_000);
const cachedCidrs = (kube: KubeClient, fallback: { serviceCidrs: string[]; podCidrs: string[] }): Promise<ClusterCidrsFound> =>
  cidrCache.get(kube, 'cidrs', () => clusterCidrs(kube, fallback));

/**
 * Images that passed recently, by source, with what the probe learnt (content identity and
 * virtual size, which name and size the golden image): the Machines of a MachineDeployment
 * share one image, so a burst probes it once. Only successes are remembered, and briefly — a
 * failure is always re-checked, and an image that went bad is caught by the import itself.
 */
const IMAGE_OK_TTL_MS = 60_000;
type ImageVerdict = { ok: true; facts: ImageFacts } | Extract<PreflightOutcome, { ok: false }>;
/** Probes in flight and recent successes: concurrent reconciles of one image share one probe. */
const images = new Map<string, { until: number; verdict: Promise<ImageVerdict> }>();

/** The image preflight's verdict with its facts; a success is remembered for IMAGE_OK_TTL_MS. */
export function imageFacts(ctx: ReconcileContext, config: MachineConfig): Promise<ImageVerdict> {
  const source = toDataVolumeSource(config.vm.primaryDisk.image, infraNamespace(config.namespace, ctx.env));
  const key = JSON.stringify(source);
  const hit = images.get(key);
  if (hit && hit.until >= Date.now()) return hit.verdict;
  const verdict = probe(ctx, source);
  if (images.size > 1000) images.clear();
  const entry = { until: Date.now() + IMAGE_OK_TTL_MS, verdict };
  images.set(key, entry);
  // Only successes are remembered; the next reconcile after a failure probes again.
  const forget = () => images.get(key) === entry && images.delete(key);
  verdict.then((v) => !v.ok && forget(), forget);
  return verdict;
}

async function probe(ctx: ReconcileContext, source: DataVolumeSource): Promise<ImageVerdict> {
  // A registry's digest only matters to the cache; without it registries are not asked, as
  // machine-controller never asked them.
  const image = await preflightImage(source, { ...ctx.preflight, registryDigests: imageCacheEnabled(ctx.env) });
  if (!image.ok) return { ok: false, permanent: image.permanent, reason: image.reason, message: image.message };
  if (image.note) ctx.log.info('image preflight note', { note: image.note });
  // Once per probe (a burst of one image shares it): the disks import from the registry
  // directly, as machine-controller's do. The reason names hosts and statuses, never a token.
  if (image.uncached)
    ctx.log.info('image not cached', { image: 'registry' in source ? describeSource(source) : '', reason: image.uncached });
  return { ok: true, facts: factsFrom(image) };
}

export async function preflight(ctx: ReconcileContext, config: MachineConfig, infra: KubeClient): Promise<PreflightOutcome> {
  const image = await imageFacts(ctx, config);
  if (!image.ok) return image;
  // With the image cache, every disk is a clone of the golden: one too small for the image is
  // refused here, before anything exists, naming both sizes (CDI would only fail the clone).
  if (imageCacheEnabled(ctx.env)) {
    const sizing = goldenSizingFor(config, infraNamespace(config.namespace, ctx.env), image.facts);
    if (sizing && !sizing.ok) return { ok: false, permanent: true, reason: 'DiskTooSmallForImage', message: sizing.message };
  }

  // The same API server on both sides cannot overlap with "another" cluster.
  if (ctx.machines.kube.server !== infra.server) {
    const conf = cidrConfigFromEnv(ctx.env);
    const [mine, theirs] = await Promise.all([cachedCidrs(ctx.machines.kube, conf.machines), cachedCidrs(infra, conf.infra)]);
    const overlap = checkCidrOverlap(mine, theirs);
    if (!overlap.ok) return { ok: false, permanent: true, reason: 'CidrOverlap', message: overlap.message };
  }
  return { ok: true };
}
