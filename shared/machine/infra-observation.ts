/**
 * How the functions that follow a Machine's infra objects (the datavolume and vmi functions)
 * obtain the object and its Machine, whatever infra namespace or cluster the Machine names.
 *
 * The event is a key. Its object's ownership labels are only a hint to find the Machine; the
 * Machine is read (and must still be the one the labels name by UID), its spec says which infra
 * cluster and namespace hold its objects, and the object is read there with the credentials the
 * spec gives (the function's own identity only when the spec names none), through the same
 * guarded path the machine function uses (shared/infra/target.ts). The object counts only when
 * it is in that namespace and carries the Machine's UID label, so an event cannot make us read
 * or act on anything the Machine does not own.
 *
 * Two entries: an event about the object itself (its ApiServerSource, or resync's
 * re-announcement), and a Machine-keyed one (resync re-announcing a Machine), which reaches
 * Machines whose infra cluster no ApiServerSource watches: the object names come from the
 * Machine's status, the object is read with its credentials, and the same logic runs.
 */
import type { ApiServerEvent } from '../../events/apiserver.js';
import { LABEL_MACHINE_UID } from '../constants.js';
import { ApiError, type KubeClient } from '../kube/rest.js';
import { MACHINE, apiVersionOf, objectPath, type Kind } from '../kube/paths.js';
import { infraClientFor } from '../infra/clients.js';
import { infraNamespace } from '../infra/namespace.js';
import { infraTarget } from '../infra/target.js';
import { allowListFromEnv } from '../preflight/refused.js';
import { systemResolve } from '../preflight/ssrf.js';
import { parseProviderSpec } from '../providerspec/parse.js';
import { apiServerReconciler } from '../runtime/apiserver-reconciler.js';
import { done, type Outcome } from '../runtime/outcome.js';
import type { Logger } from '../runtime/log.js';
import type { Reconciler } from '../runtime/handler.js';
import type { MachineApi } from './api.js';
import { foreignUnlessHeld } from './foreign.js';
import { machineRefFromLabels, owningMachine } from './owner-lookup.js';
import { clusterResolver } from './resolver.js';
import type { Machine } from './types.js';
import type { MachineConfig } from '../providerspec/types.js';

export interface ObservationDeps {
  /** The function's own infra identity (INFRA_KUBECONFIG / KUBECONFIG / in-cluster). */
  infra: KubeClient;
  machines: MachineApi;
  env: NodeJS.ProcessEnv;
}

/** Where a Machine's infra objects are, the client that may read them, and the spec that says so. */
export interface MachineInfra {
  client: KubeClient;
  namespace: string;
  config: MachineConfig;
}

/** An event key whose Machine (and its infra) the Machine-keyed entry has already read. */
export type ObservedKey = ApiServerEvent & { known?: { machine: Machine; infra: MachineInfra } };

export type Observation<T> = { ok: true; machine: Machine; object: T } | { ok: false; note: string };

interface Owned {
  metadata: { uid?: string; labels?: Record<string, string> };
}

export const MACHINE_KIND = { apiVersion: apiVersionOf(MACHINE), kind: MACHINE.kind };

/** Why a Machine is not one to observe for: gone into deletion (the machine function's), or not ours. */
function notObserved(m: Machine, env: NodeJS.ProcessEnv): string | undefined {
  if (m.metadata.deletionTimestamp) return 'Machine is being deleted';
  return foreignUnlessHeld(m, env);
}

/**
 * The infra cluster and namespace `m`'s spec names, with a client holding its credentials.
 * A spec that does not parse, or names a kubeconfig or server the guard refuses, is the machine
 * function's to report; observers only note it. (A transient failure reading a referenced
 * Secret also shows as a parse issue here: the next event or resync tick tries again.)
 */
export async function machineInfra(
  deps: ObservationDeps,
  m: Machine,
): Promise<{ ok: true; infra: MachineInfra } | { ok: false; note: string }> {
  const parsed = await parseProviderSpec(m.spec?.providerSpec?.value, clusterResolver(deps.machines.kube, m.metadata.namespace, deps.env));
  if (!parsed.ok) return { ok: false, note: 'providerSpec does not parse (the machine function reports why)' };
  const target = await infraTarget(
    {
      env: deps.env,
      infraFor: (k) => (k === undefined ? deps.infra : infraClientFor(k, deps.env)),
      resolve: systemResolve,
      allow: allowListFromEnv(deps.env),
    },
    parsed.config.kubeconfig,
  );
  if (!target.ok) return { ok: false, note: `infra cluster not usable (the machine function reports it): ${target.message}` };
  return { ok: true, infra: { client: target.infra, namespace: infraNamespace(parsed.config.namespace, deps.env), config: parsed.config } };
}

/** `get` that treats "not allowed" like "not there": an identity without the right cannot see it. */
async function readIfAllowed<T>(client: KubeClient, path: string): Promise<T | undefined> {
  try {
    return await client.get<T>(path);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) return undefined;
    throw e;
  }
}

/** The labels that hint at the owning Machine: the Resource-mode payload's, else the object as our own identity sees it. */
async function ownerHint(deps: ObservationDeps, key: ObservedKey, kind: Kind): Promise<Record<string, string> | undefined> {
  const fromPayload = key.object?.metadata.labels;
  if (machineRefFromLabels(fromPayload)) return fromPayload;
  const o = await readIfAllowed<Owned>(deps.infra, objectPath(kind, key.namespace, key.name));
  return o?.metadata.labels;
}

/**
 * The object `key` names and its live Machine, both confirmed as described above; or a note
 * saying why there is nothing to do.
 */
export async function observeInfraObject<T extends Owned>(deps: ObservationDeps, key: ObservedKey, kind: Kind): Promise<Observation<T>> {
  let m: Machine | undefined;
  let infra: MachineInfra;
  if (key.known) {
    ({ machine: m, infra } = key.known);
  } else {
    m = await owningMachine(deps.machines, await ownerHint(deps, key, kind));
    if (!m) return { ok: false, note: `no live Machine owns this ${kind.kind}` };
    const why = notObserved(m, deps.env);
    if (why) return { ok: false, note: why };
    const reach = await machineInfra(deps, m);
    if (!reach.ok) return reach;
    infra = reach.infra;
  }
  if (key.namespace !== infra.namespace) return { ok: false, note: `not in the Machine's infra namespace ${infra.namespace}` };
  const o = await readIfAllowed<T>(infra.client, objectPath(kind, key.namespace, key.name));
  if (!o) return { ok: false, note: `${kind.kind.toLowerCase()} gone (or not readable with the Machine's credentials)` };
  if (o.metadata.labels?.[LABEL_MACHINE_UID] !== m.metadata.uid) return { ok: false, note: `${kind.kind} is not this Machine's` };
  return { ok: true, machine: m, object: o };
}

/** One outcome for several objects: the most urgent wins (a retry is never swallowed by a done). */
function combine(outcomes: Outcome[]): Outcome {
  const rank: Record<Outcome['kind'], number> = { malformed: 5, oversized: 5, retry: 4, wait: 3, terminal: 2, done: 1 };
  const worst = outcomes.reduce<Outcome | undefined>((w, o) => (!w || rank[o.kind] > rank[w.kind] ? o : w), undefined);
  if (!worst || worst.kind !== 'done') return worst ?? done('nothing to observe');
  return done(outcomes.map((o) => (o.kind === 'done' ? o.note : '')).join('; '));
}

/**
 * The reconciler of an observing function: events about `kind` go straight to `reconcileOne`;
 * Machine events (resync's Machine-keyed entry) are turned into one key per object of `kind`
 * the Machine's spec makes (`namesOf`, named as the VM builder names them: the status may not
 * list them), each carrying the Machine and its infra already read.
 */
export function observationReconciler(
  deps: ObservationDeps,
  kind: Kind,
  namesOf: (m: Machine, config: MachineConfig) => string[],
  reconcileOne: (key: ObservedKey, log: Logger) => Promise<Outcome>,
): Reconciler {
  const objectKind = { apiVersion: apiVersionOf(kind), kind: kind.kind };
  return apiServerReconciler([objectKind, MACHINE_KIND], async (ev, log) => {
    if (ev.kind !== MACHINE.kind) return reconcileOne(ev, log);
    const m = await deps.machines.get(ev.namespace, ev.name);
    if (!m) return done('machine gone');
    const why = notObserved(m, deps.env);
    if (why) return done(why);
    const reach = await machineInfra(deps, m);
    if (!reach.ok) return done(reach.note);
    const names = namesOf(m, reach.infra.config);
    const outcomes: Outcome[] = [];
    for (const name of names) {
      const key: ObservedKey = {
        ...ev,
        ...objectKind,
        object: undefined,
        namespace: reach.infra.namespace,
        name,
        known: { machine: m, infra: reach.infra },
      };
      outcomes.push(await reconcileOne(key, log.with({ via: `machine ${ev.namespace}/${ev.name}` })));
    }
    return combine(outcomes);
  });
}
