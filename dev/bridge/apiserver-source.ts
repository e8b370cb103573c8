/**
 * ApiServerSource, locally: one list+watch per `resources[]` entry, each watch event turned into
 * the CloudEvent the Knative receive adapter sends (pkg/adapter/apiserver/events).
 *
 *   type      dev.knative.apiserver.resource.add|update|delete  (Reference mode: .ref.)
 *   source    the API server URL (the adapter's rest.Config.Host), not the source's name
 *   subject   /apis/<apiVersion>/namespaces/<ns>/<plural>/<name>  — `/apis/v1/…` for core kinds
 *   time      send time, RFC 3339 with nanoseconds
 *   extensions apiversion, kind, name, namespace (+ spec.ceOverrides.extensions)
 *   data      Resource: the whole object as the watch delivered it; Reference: kind/namespace/name/apiVersion
 */
import { randomUUID } from 'node:crypto';
import type { Connection } from '../../shared/kube/kubeconfig.js';
import { KubeClient } from '../../shared/kube/rest.js';
import { listWatch, type ChangeType, type ListWatchStats } from '../kube/watch.js';
import { rfc3339Nano, type BridgeEvent } from './cloudevent.js';
import type { ApiServerSourceSpec, LabelSelector, WatchedResource } from './manifests.js';

const OPERATION: Record<ChangeType, string> = { ADDED: 'add', MODIFIED: 'update', DELETED: 'delete' };

/** apimachinery's `meta.UnsafeGuessKindToResource`: lower-case plus a naive English plural. */
export function guessPlural(kind: string): string {
  const singular = kind.toLowerCase();
  if (singular.endsWith('endpoints')) return singular;
  if (singular.endsWith('s')) return `${singular}es`;
  if (singular.endsWith('y')) return `${singular.slice(0, -1)}ies`;
  return `${singular}s`;
}

/** The `labelSelector` query value for a LabelSelector (matchLabels and matchExpressions, ANDed). */
export function labelSelectorString(sel: LabelSelector | undefined): string | undefined {
  if (!sel) return undefined;
  const parts = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    switch (e.operator) {
      case 'In':
        parts.push(`${e.key} in (${values})`);
        break;
      case 'NotIn':
        parts.push(`${e.key} notin (${values})`);
        break;
      case 'Exists':
        parts.push(e.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${e.key}`);
        break;
      default:
        throw new Error(`label selector operator "${e.operator}" is not one of In, NotIn, Exists, DoesNotExist`);
    }
  }
  return parts.length > 0 ? parts.join(',') : undefined;
}

/** The collection to list and watch: cluster-wide, or one namespace. */
export function collectionPath(r: WatchedResource, namespace?: string): string {
  const root = r.apiVersion.includes('/') ? `/apis/${r.apiVersion}` : `/api/${r.apiVersion}`;
  return `${root}${namespace ? `/namespaces/${namespace}` : ''}/${guessPlural(r.kind)}`;
}

/** The adapter's `createSelfLink`: group-only apiVersions get `/versionUnknown`. */
export function subjectOf(apiVersion: string, kind: string, namespace: string, name: string): string {
  const version = apiVersion.includes('.') && !apiVersion.includes('/') ? `${apiVersion}/versionUnknown` : apiVersion;
  return `/apis/${version}/namespaces/${namespace}/${guessPlural(kind)}/${name}`;
}

/** The CloudEvent the adapter sends for one watch event. */
export function apiServerEvent(
  spec: Pick<ApiServerSourceSpec, 'mode' | 'extensions'>,
  server: string,
  type: ChangeType,
  obj: any,
): BridgeEvent {
  const apiVersion = String(obj?.apiVersion ?? '');
  const kind = String(obj?.kind ?? '');
  const name = String(obj?.metadata?.name ?? '');
  const namespace = String(obj?.metadata?.namespace ?? '');
  const ref = spec.mode === 'Reference';
  const data = ref ? { kind, namespace, name, apiVersion } : obj;
  return {
    attributes: {
      datacontenttype: 'application/json',
      specversion: '1.0',
      id: randomUUID(),
      source: server,
      type: `dev.knative.apiserver.${ref ? 'ref' : 'resource'}.${OPERATION[type]}`,
      subject: subjectOf(apiVersion, kind, namespace, name),
      time: rfc3339Nano(),
      apiversion: apiVersion,
      kind,
      name,
      namespace,
      ...spec.extensions,
    },
    data: Buffer.from(JSON.stringify(data)),
  };
}

/** `spec.owner`: only objects whose controller ownerReference has this apiVersion and kind. */
function ownedAsRequired(spec: ApiServerSourceSpec, obj: any): boolean {
  if (!spec.owner) return true;
  const refs: any[] = obj?.metadata?.ownerReferences ?? [];
  return refs.some((r) => r.controller === true && r.apiVersion === spec.owner!.apiVersion && r.kind === spec.owner!.kind);
}

export interface RunningSource {
  ready: Promise<void>;
  watches: { source: string; path: string; labelSelector?: string; stats: ListWatchStats }[];
  done: Promise<void>;
}

/** Starts one watch per resource; `emit` receives every event in watch order. */
export function startApiServerSource(
  spec: ApiServerSourceSpec,
  conn: Connection,
  emit: (ev: BridgeEvent) => void,
  log: (line: string) => void,
  signal: AbortSignal,
  tuning: { watchTimeoutSeconds?: number; backoff?: { initialMs: number; maxMs: number } } = {},
): RunningSource {
  // The adapter's reflector: LISTs only for their resourceVersion, a failed watch resumes from
  // the last resourceVersion seen, 410 Gone relists without emitting what changed in between.
  const kube = new KubeClient(conn, 30_000);
  const running = spec.resources.map((r) => {
    const path = collectionPath(r, spec.allNamespaces ? undefined : spec.namespace);
    const labelSelector = labelSelectorString(r.selector);
    const w = listWatch(kube, {
      path,
      labelSelector,
      signal,
      log,
      watchTimeoutSeconds: tuning.watchTimeoutSeconds,
      backoff: tuning.backoff,
      onEvent: (type, obj) => {
        if (ownedAsRequired(spec, obj)) emit(apiServerEvent(spec, conn.server, type, obj));
      },
    });
    return { w, info: { source: `${spec.namespace}/${spec.name}`, path, labelSelector, stats: w.stats } };
  });
  return {
    ready: Promise.all(running.map((r) => r.w.ready)).then(() => undefined),
    watches: running.map((r) => r.info),
    done: Promise.all(running.map((r) => r.w.done)).then(() => kube.close()),
  };
}
