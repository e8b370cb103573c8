/**
 * The image cache in the machine function: an http or registry image is imported once into a
 * golden DataVolume in the infra namespace (shared/image/golden.ts names and builds it), and
 * the Machine's disks are CDI clones of it.
 *
 * Request budget: the golden's create is remembered in-process (per infra API server, namespace
 * and name) for GOLDEN_OK_TTL_MS, and concurrent reconciles share one create, so a burst of
 * Machines of one image costs one extra request in all, not one per Machine.
 */
import { ANN_GOLDEN_SOURCE, LABEL_GOLDEN, type GoldenDataVolume } from '../../shared/image/golden.js';
import { DATA_VOLUME, collectionPath, objectPath } from '../../shared/kube/paths.js';
import { ApiError, type KubeClient } from '../../shared/kube/rest.js';
import { LABEL_MANAGED_BY, MANAGED_BY_VALUE } from '../../shared/constants.js';

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
