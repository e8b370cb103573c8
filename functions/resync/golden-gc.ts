/**
 * Golden images on a resync tick (IMAGE_CACHE): announces each golden that succeeded
 * (`machine.image.cached`, once), records on every golden still needed when this tick saw it
 * needed, and deletes those no disk has needed for IMAGE_CACHE_RETENTION
 * (`machine.image.evicted`) — or, for one that never Succeeded, for UNFINISHED_RETENTION_MS at
 * most. Goldens are shared by many Machines and owned by none, so the
 * orphan collection (which follows a Machine's labels) never takes them: this does.
 *
 * What "needed" means — a golden is needed while something may still read it:
 * - a clone DataVolume labelled with its name that has not Succeeded (pending, scheduled or
 *   copying: CDI reads the source PVC until the clone succeeds), or
 * - a VirtualMachine of ours whose dataVolumeTemplates clone it. While the VM exists, KubeVirt
 *   re-creates a missing template DataVolume from the template, which clones again; the VM
 *   exists as long as its Machine does (the orphan collection, run just before on the same
 *   tick, deletes VMs whose Machine is gone).
 * A Succeeded clone of a deleted VM reads nothing: it is an orphan of its own.
 *
 * Level-triggered: "last needed" is an annotation on the golden (refreshed each tick it is
 * needed; its creation time until the first), so no memory survives between ticks and any
 * replica sees the same clock. A golden is deleted only after a second, namespace-scoped look
 * right before the delete (a Machine created since the cluster-wide lists would show there),
 * with its UID as precondition (a golden re-created under the same name is not this one).
 *
 * Known window: the machine function remembers a golden it created or verified for 60 s
 * (functions/machine/golden-image.ts) and, for a VM created earlier, reads the golden from the
 * VM. A Machine whose create lands between the second look and the delete gets a clone that
 * waits (CloneWithoutSource) until a golden of that name exists again. The default retention
 * (24 h unneeded) makes that a golden nobody used for a day meeting a new Machine within
 * milliseconds.
 */
import { buildFollowUp, FollowUpType } from '../../events/followup.js';
import {
  ANN_GOLDEN_CACHED,
  ANN_GOLDEN_CONTENT,
  ANN_GOLDEN_LAST_NEEDED,
  ANN_GOLDEN_SOURCE,
  LABEL_GOLDEN,
  isGoldenDataVolume,
} from '../../shared/image/golden.js';
import { parseGoDuration } from '../../shared/machine/drain-plan.js';
import { DATA_VOLUME, VIRTUAL_MACHINE, collectionPath, objectPath, type Kind } from '../../shared/kube/paths.js';
import { ApiError, type KubeClient } from '../../shared/kube/rest.js';
import { LABEL_MANAGED_BY, MANAGED_BY_VALUE } from '../../shared/constants.js';
import type { EventSink } from '../../shared/runtime/sink.js';
import type { Logger } from '../../shared/runtime/log.js';

export const RETENTION_ENV = 'IMAGE_CACHE_RETENTION';
export const DEFAULT_RETENTION_MS = 24 * 3600_000;
/**
 * A golden that has not Succeeded is kept at most this long unneeded, whatever the retention:
 * the retention is there so the next scale-up reuses an imported image, and an import that is
 * failing (CDI restarts its importer pod forever) or unfinished has nothing to reuse yet, only a
 * pod to keep running. Not zero: between the golden's create and its first clone's VM (or a
 * Machine's scale-down and the next scale-up) there is a moment where nothing needs it.
 */
export const UNFINISHED_RETENTION_MS = 10 * 60_000;
const OURS = `${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE}`;
const FUNCTION_NAME = 'resync';

/** IMAGE_CACHE_RETENTION (a Go duration: "24h", "90m"); unset → 24 h; malformed → undefined. */
export function retentionMs(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env[RETENTION_ENV];
  if (raw === undefined || raw.trim() === '') return DEFAULT_RETENTION_MS;
  return parseGoDuration(raw);
}

interface DvObj {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  status?: { phase?: string };
}

interface VmObj {
  metadata: { name: string; namespace: string };
  spec?: { dataVolumeTemplates?: { spec?: { source?: { pvc?: { namespace?: string; name?: string } } } }[] };
}

export interface GoldenGcDeps {
  infra: KubeClient;
  sink: EventSink;
  ceOverrides: Record<string, string>;
  env?: NodeJS.ProcessEnv;
  /** Clock (tests). */
  now?: () => number;
}

export interface GoldenGcReport {
  goldens: number;
  needed: number;
  cached: number;
  evicted: number;
}

async function list<T>(kube: KubeClient, k: Kind, labelSelector: string, namespace?: string): Promise<T[]> {
  const base = namespace
    ? collectionPath(k, namespace)
    : k.group
      ? `/apis/${k.group}/${k.version}/${k.plural}`
      : `/api/${k.version}/${k.plural}`;
  const out: T[] = [];
  let cont: string | undefined;
  do {
    const page = await kube.request<{ items?: T[]; metadata?: { continue?: string } }>('GET', base, {
      query: { labelSelector, limit: 500, continue: cont },
    });
    out.push(...(page.items ?? []));
    cont = page.metadata?.continue || undefined;
  } while (cont);
  return out;
}

/** The goldens (namespace/name) that `clones` and `vms` still need. */
function neededSet(clones: DvObj[], vms: VmObj[]): Set<string> {
  const needed = new Set<string>();
  for (const c of clones) {
    const g = c.metadata.labels?.[LABEL_GOLDEN];
    if (g && g !== c.metadata.name && c.status?.phase !== 'Succeeded') needed.add(`${c.metadata.namespace}/${g}`);
  }
  for (const vm of vms) {
    for (const t of vm.spec?.dataVolumeTemplates ?? []) {
      const pvc = t.spec?.source?.pvc;
      if (pvc?.name) needed.add(`${pvc.namespace ?? vm.metadata.namespace}/${pvc.name}`);
    }
  }
  return needed;
}

const content = (g: DvObj): Record<string, string | number> => {
  try {
    return JSON.parse(g.metadata.annotations?.[ANN_GOLDEN_CONTENT] ?? '{}') as Record<string, string | number>;
  } catch {
    return {};
  }
};

export async function collectGoldens(deps: GoldenGcDeps, log: Logger): Promise<GoldenGcReport> {
  const env = deps.env ?? process.env;
  const now = (deps.now ?? Date.now)();
  // One list holds both the goldens and their clones: both carry the golden label.
  const labelled = await list<DvObj>(deps.infra, DATA_VOLUME, LABEL_GOLDEN);
  const goldens = labelled.filter(isGoldenDataVolume);
  const report: GoldenGcReport = { goldens: goldens.length, needed: 0, cached: 0, evicted: 0 };
  if (goldens.length === 0) return report;
  const vms = await list<VmObj>(deps.infra, VIRTUAL_MACHINE, OURS);
  const needed = neededSet(labelled, vms);
  const retention = retentionMs(env);
  if (retention === undefined) log.error(`${RETENTION_ENV} is not a Go duration (e.g. 24h, 90m): no golden image is deleted`, {});

  for (const g of goldens) {
    if (g.metadata.deletionTimestamp) continue;
    const id = `${g.metadata.namespace}/${g.metadata.name}`;
    const path = objectPath(DATA_VOLUME, g.metadata.namespace, g.metadata.name);
    const isNeeded = needed.has(id);
    if (isNeeded) report.needed++;
    const announce = g.status?.phase === 'Succeeded' && !g.metadata.annotations?.[ANN_GOLDEN_CACHED];
    const stamp = new Date(now).toISOString();
    const annotations: Record<string, string> = {};
    if (isNeeded) annotations[ANN_GOLDEN_LAST_NEEDED] = stamp;
    if (announce) annotations[ANN_GOLDEN_CACHED] = stamp;
    if (Object.keys(annotations).length > 0) {
      // The resourceVersion makes the claim exclusive: of two ticks at once, one announces.
      const claimed = await deps.infra
        .patch(path, 'merge', { metadata: { resourceVersion: announce ? g.metadata.resourceVersion : undefined, annotations } })
        .then(
          () => true,
          (e) => {
            if (e instanceof ApiError && (e.status === 409 || e.status === 404)) return false;
            throw e;
          },
        );
      if (claimed && announce) {
        try {
          await deps.sink.send(
            buildFollowUp(
              FollowUpType.imageCached,
              { golden: ref(g), source: g.metadata.annotations?.[ANN_GOLDEN_SOURCE] ?? '', content: content(g) },
              { function: FUNCTION_NAME, overrides: deps.ceOverrides },
            ),
          );
        } catch (e) {
          // Released, so the next tick (or Knative's redelivery of this one) announces it.
          await deps.infra.patch(path, 'merge', { metadata: { annotations: { [ANN_GOLDEN_CACHED]: null } } }).catch(() => undefined);
          throw e;
        }
        report.cached++;
        log.info('golden image cached', { golden: id });
      }
    }
    if (isNeeded || retention === undefined) continue;

    const since = g.metadata.annotations?.[ANN_GOLDEN_LAST_NEEDED] ?? g.metadata.creationTimestamp;
    const sinceMs = since ? Date.parse(since) : NaN;
    const keepFor = g.status?.phase === 'Succeeded' ? retention : Math.min(retention, UNFINISHED_RETENTION_MS);
    if (!Number.isFinite(sinceMs) || now - sinceMs < keepFor) continue;
    // A second look, in its namespace only: a Machine made since the lists may need it now.
    const [clonesNow, vmsNow] = await Promise.all([
      list<DvObj>(deps.infra, DATA_VOLUME, `${LABEL_GOLDEN}=${g.metadata.name}`, g.metadata.namespace),
      list<VmObj>(deps.infra, VIRTUAL_MACHINE, OURS, g.metadata.namespace),
    ]);
    if (neededSet(clonesNow, vmsNow).has(id)) continue;
    const gone = await deps.infra.delete(path, 'Background', g.metadata.uid).catch((e) => {
      // 409: the name holds another golden now (precondition): not the one found unneeded.
      if (e instanceof ApiError && e.status === 409) return false;
      throw e;
    });
    if (!gone) continue;
    report.evicted++;
    const idleSeconds = Math.round((now - sinceMs) / 1000);
    log.info('golden image evicted', { golden: id, lastNeeded: since, idleSeconds });
    await deps.sink.send(
      buildFollowUp(
        FollowUpType.imageEvicted,
        { golden: ref(g), source: g.metadata.annotations?.[ANN_GOLDEN_SOURCE] ?? '', lastNeeded: since!, idleSeconds },
        { function: FUNCTION_NAME, overrides: deps.ceOverrides },
      ),
    );
  }
  return report;
}

const ref = (g: DvObj) => ({ namespace: g.metadata.namespace, name: g.metadata.name, uid: g.metadata.uid });
