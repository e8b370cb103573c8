/**
 * Periodic resync (a PingSource tick). ApiServerSources never replay what they missed (adapter
 * restarts, relists, objects applied before a source watched), so every tick re-announces the
 * current objects of every kind a function consumes as Reference-mode `update` events through
 * the Broker — each function re-reconciles them exactly as for a live change — and deletes
 * orphans: infra objects carrying our labels whose Machine is gone (or is a different Machine
 * now), reported as `machine.orphan.deleted`. Other providers' Machines and sets are not
 * announced (their functions would only acknowledge them).
 */
import { randomUUID } from 'node:crypto';
import { CloudEvent, type CloudEventV1 } from 'cloudevents';
import { buildFollowUp, FollowUpType } from '../../events/followup.js';
import { collectGoldens } from './golden-gc.js';
import {
  MACHINE,
  MACHINE_DEPLOYMENT,
  MACHINE_SET,
  DATA_VOLUME,
  VIRTUAL_MACHINE,
  VIRTUAL_MACHINE_INSTANCE,
  apiVersionOf,
  objectPath,
  type Kind,
} from '../../shared/kube/paths.js';
import { isTransient, type KubeClient } from '../../shared/kube/rest.js';
import { machineRefFromLabels } from '../../shared/machine/owner-lookup.js';
import { foreignSet, foreignUnlessHeld } from '../../shared/machine/foreign.js';
import { LABEL_MANAGED_BY, MANAGED_BY_VALUE } from '../../shared/constants.js';
import type { MachineApi } from '../../shared/machine/api.js';
import type { EventSink } from '../../shared/runtime/sink.js';
import { SinkError } from '../../shared/runtime/sink.js';
import { done, malformed, retry, type Outcome } from '../../shared/runtime/outcome.js';
import type { Logger } from '../../shared/runtime/log.js';
import { expireUnjoinedMachines } from './join-timeout.js';

export const FUNCTION_NAME = 'resync';
export const PING_TYPE = 'dev.knative.sources.ping';
const OURS = `${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE}`;

export interface ResyncDeps {
  machines: MachineApi;
  infra: KubeClient;
  sink: EventSink;
  ceOverrides: Record<string, string>;
  /** WORKER_NAME: which Machines and sets are ours (default process.env). */
  env?: NodeJS.ProcessEnv;
}

interface Obj {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    labels?: Record<string, string>;
    deletionTimestamp?: string;
    finalizers?: string[];
  };
  spec?: {
    providerSpec?: { value?: unknown };
    template?: { metadata?: { labels?: Record<string, string> }; spec?: { providerSpec?: { value?: unknown } } };
  };
}

/** Cluster-wide list (all namespaces), paginated. */
async function listAll(kube: KubeClient, k: Kind, labelSelector?: string): Promise<Obj[]> {
  const base = k.group ? `/apis/${k.group}/${k.version}/${k.plural}` : `/api/${k.version}/${k.plural}`;
  const out: Obj[] = [];
  let cont: string | undefined;
  do {
    const page = await kube.request<{ items?: Obj[]; metadata?: { continue?: string } }>('GET', base, {
      query: { labelSelector, limit: 500, continue: cont },
    });
    out.push(...(page.items ?? []));
    cont = page.metadata?.continue || undefined;
  } while (cont);
  return out;
}

/** A Reference-mode ApiServerSource event, as the adapter would send for `o`. */
function refEvent(k: Kind, o: Obj, source: string): CloudEvent<unknown> {
  return new CloudEvent({
    id: randomUUID(),
    type: 'dev.knative.apiserver.ref.update',
    source,
    subject: `/apis/${apiVersionOf(k)}/namespaces/${o.metadata.namespace}/${k.plural}/${o.metadata.name}`,
    datacontenttype: 'application/json',
    data: { kind: k.kind, namespace: o.metadata.namespace, name: o.metadata.name, apiVersion: apiVersionOf(k) },
    kind: k.kind,
    name: o.metadata.name,
    namespace: o.metadata.namespace,
    apiversion: apiVersionOf(k),
  });
}

export interface ResyncReport {
  machines: number;
  machineSets: number;
  machineDeployments: number;
  dataVolumes: number;
  vmis: number;
  orphansDeleted: number;
}

/**
 * What a tick re-announces: every kind a function consumes. Machines of another provider (or
 * worker) are left out unless they still carry our finalizer (then the machine function still
 * owes them a cleanup); MachineSets and MachineDeployments only when their template is ours.
 * A Machine's announcement also reaches the datavolume and vmi functions (their Machine-keyed
 * entry), so a Machine whose infra cluster no source watches converges on this period.
 */
async function reannouncements(deps: ResyncDeps, machines: Obj[]): Promise<[Kind, Obj[]][]> {
  const env = deps.env ?? process.env;
  const [sets, deployments, dvs, vmis] = await Promise.all([
    listAll(deps.machines.kube, MACHINE_SET),
    listAll(deps.machines.kube, MACHINE_DEPLOYMENT),
    listAll(deps.infra, DATA_VOLUME, OURS),
    listAll(deps.infra, VIRTUAL_MACHINE_INSTANCE, OURS),
  ]);
  const ours = machines.filter((m) => !foreignUnlessHeld(m, env));
  return [
    [MACHINE_DEPLOYMENT, deployments.filter((d) => !foreignSet(d, env))],
    [MACHINE_SET, sets.filter((s) => !foreignSet(s, env))],
    [MACHINE, ours],
    [DATA_VOLUME, dvs],
    [VIRTUAL_MACHINE_INSTANCE, vmis],
  ];
}

export async function resync(deps: ResyncDeps, log: Logger): Promise<ResyncReport> {
  const machines = await listAll(deps.machines.kube, MACHINE);
  await expireUnjoinedMachines(deps, machines, log);
  const live = new Map(machines.map((m) => [`${m.metadata.namespace}/${m.metadata.name}`, m.metadata.uid]));
  const source = `/kubevirt-machine-functions/${FUNCTION_NAME}`;
  let orphansDeleted = 0;

  // Orphans first: infra objects of ours whose Machine is gone. Not Secrets: our userdata
  // Secret is owned by its VM, so the garbage collector removes it with the VM — and listing
  // Secrets would need the right to read every Secret's data.
  for (const k of [VIRTUAL_MACHINE, DATA_VOLUME]) {
    for (const o of await listAll(deps.infra, k, OURS)) {
      const ref = machineRefFromLabels(o.metadata.labels);
      if (!ref || live.get(`${ref.namespace}/${ref.name}`) === ref.uid || o.metadata.deletionTimestamp) continue;
      // Re-check this one Machine: the list may predate a Machine created meanwhile.
      const m = await deps.machines.get(ref.namespace, ref.name);
      if (m && m.metadata.uid === ref.uid) continue;
      const gone = await deps.infra
        .delete(objectPath(k, o.metadata.namespace, o.metadata.name), 'Background', o.metadata.uid)
        .catch((e) => {
          // 409: the name now holds another object (precondition) — not ours to delete.
          if ((e as { status?: number }).status === 409) return false;
          throw e;
        });
      if (!gone) continue;
      orphansDeleted++;
      log.warn('orphan deleted', {
        kind: k.kind,
        object: `${o.metadata.namespace}/${o.metadata.name}`,
        machine: `${ref.namespace}/${ref.name}`,
        machineUid: ref.uid,
      });
      await deps.sink.send(
        buildFollowUp(
          FollowUpType.orphanDeleted,
          {
            machine: ref,
            object: {
              apiVersion: apiVersionOf(k),
              kind: k.kind,
              namespace: o.metadata.namespace,
              name: o.metadata.name,
              uid: o.metadata.uid,
            },
          },
          { function: FUNCTION_NAME, overrides: deps.ceOverrides },
        ),
      );
    }
  }

  await collectGoldens(deps, log); // golden images: cached, last needed, evicted (golden-gc.ts)

  // Then re-announce everything current, so each function re-reconciles it.
  const counts = new Map<string, number>();
  for (const [k, list] of await reannouncements(deps, machines)) {
    counts.set(k.kind, list.length);
    for (const o of list) await deps.sink.send(refEvent(k, o, source));
  }
  const n = (k: Kind) => counts.get(k.kind) ?? 0;
  return {
    machines: n(MACHINE),
    machineSets: n(MACHINE_SET),
    machineDeployments: n(MACHINE_DEPLOYMENT),
    dataVolumes: n(DATA_VOLUME),
    vmis: n(VIRTUAL_MACHINE_INSTANCE),
    orphansDeleted,
  };
}

export function resyncReconciler(deps: ResyncDeps) {
  return async (ce: CloudEventV1<unknown>, log: Logger): Promise<Outcome> => {
    if (ce.type !== PING_TYPE) return malformed(`expected ${PING_TYPE}, got ${JSON.stringify(ce.type)}`);
    try {
      const r = await resync(deps, log);
      log.info('resync done', { ...r });
      return done(
        `resynced ${r.machineDeployments} machinedeployments, ${r.machineSets} machinesets, ${r.machines} machines, ${r.dataVolumes} datavolumes, ${r.vmis} vmis; ${r.orphansDeleted} orphans deleted`,
      );
    } catch (e) {
      if (isTransient(e) || e instanceof SinkError) return retry((e as Error).message);
      throw e;
    }
  };
}
