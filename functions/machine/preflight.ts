/**
 * What the machine function checks before it creates anything: the image (reachable, a format
 * CDI imports, not an SSRF target) and that the Machines' cluster and the infra cluster do not
 * share service/pod ranges (machine-controller's KubeVirt guide: overlapping ranges break the
 * guest's DNS ClusterIP). Either failure is reported on the Machine and nothing is created.
 */
import type { KubeClient } from '../../shared/kube/rest.js';
import { toDataVolumeSource } from '../../shared/image/source.js';
import { checkCidrOverlap, clusterCidrs, cidrConfigFromEnv, preflightImage, type ClusterCidrsFound } from '../../shared/preflight/index.js';
import type { MachineConfig } from '../../shared/providerspec/types.js';
import { TtlCache } from '../../shared/runtime/ttl-cache.js';
import { infraNamespace, type ReconcileContext } from './context.js';

export type PreflightOutcome = { ok: true } | { ok: false; permanent: boolean; reason: string; message: string };

const cidrCache = new TtlCache<KubeClient, ClusterCidrsFound>(60_000);
const cachedCidrs = (kube: KubeClient, fallback: { serviceCidrs: string[]; podCidrs: string[] }): Promise<ClusterCidrsFound> =>
  cidrCache.get(kube, 'cidrs', () => clusterCidrs(kube, fallback));

/**
 * Images that passed recently, by source: the Machines of a MachineDeployment share one image,
 * so a burst probes it once. Only successes are remembered, and briefly — a failure is always
 * re-checked, and an image that went bad is caught by the import itself.
 */
const IMAGE_OK_TTL_MS = 60_000;
const imagesOk = new Map<string, number>();

export async function preflight(ctx: ReconcileContext, config: MachineConfig, infra: KubeClient): Promise<PreflightOutcome> {
  const source = toDataVolumeSource(config.vm.primaryDisk.image, infraNamespace(config.namespace, ctx.env));
  const key = JSON.stringify(source);
  if ((imagesOk.get(key) ?? 0) < Date.now()) {
    const image = await preflightImage(source, ctx.preflight);
    if (!image.ok) return { ok: false, permanent: image.permanent, reason: image.reason, message: image.message };
    if (image.note) ctx.log.info('image preflight note', { note: image.note });
    if (imagesOk.size > 1000) imagesOk.clear();
    imagesOk.set(key, Date.now() + IMAGE_OK_TTL_MS);
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
