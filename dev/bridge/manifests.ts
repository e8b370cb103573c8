/**
 * Reads the Knative documents the bridge acts on out of manifest YAML (other kinds — RBAC,
 * Services, kustomizations — are skipped) and resolves them into a routing table.
 *
 * Everything is checked up front and reported together, so a broken manifest stops the bridge
 * at start with every problem listed, never half-way through a run.
 */
import { parseAllDocuments } from 'yaml';
import { parseIsoDuration } from './duration.js';
import { filterProblems, type TriggerFilterSpec } from './filters.js';

/** Where events go: a Broker of this bridge, or a URL. */
export type Target = { kind: 'broker'; broker: string } | { kind: 'url'; url: string; label: string };

export interface Delivery {
  retry: number;
  backoffPolicy: 'exponential' | 'linear';
  backoffDelayMs: number;
  /** Per attempt; undefined = no timeout of our own. */
  timeoutMs?: number;
  deadLetter?: Target;
}

export interface TriggerRoute {
  name: string;
  namespace: string;
  /** `<namespace>/<broker name>`. */
  broker: string;
  filter: TriggerFilterSpec;
  /** The subscriber's Knative Service name, or its URI. */
  subscriber: string;
  url: string;
  delivery: Delivery;
}

export interface WatchedResource {
  apiVersion: string;
  kind: string;
  selector?: LabelSelector;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface ApiServerSourceSpec {
  name: string;
  namespace: string;
  /** Defaulted as the Knative webhook does: Reference. */
  mode: 'Resource' | 'Reference';
  resources: WatchedResource[];
  /** Defaulted as the Knative webhook does: `default`. The adapter runs as this ServiceAccount. */
  serviceAccountName: string;
  /** undefined = only the source's own namespace; empty = all namespaces; labels = the namespaces carrying them. */
  namespaceSelector?: LabelSelector;
  owner?: { apiVersion?: string; kind?: string };
  /** spec.filters (alpha in Knative), passed to the adapter as they are. */
  filters?: unknown[];
  /** spec.ceOverrides as written (K_CE_OVERRIDES). */
  ceOverrides?: { extensions?: Record<string, string> };
  /** The skip-permissions-check annotation puts the adapter in fail-fast mode. */
  failFast: boolean;
  sink: Target;
}

export interface PingSourceSpec {
  name: string;
  namespace: string;
  contentType?: string;
  data?: Buffer;
  extensions: Record<string, string>;
  sink: Target;
}

export interface BridgeConfig {
  triggers: TriggerRoute[];
  apiServerSources: ApiServerSourceSpec[];
  pingSources: PingSourceSpec[];
  /** Every Broker named by a Broker document, a Trigger or a sink (`<namespace>/<name>`). */
  brokers: string[];
  /** Knative Service names declared in the manifests (informational). */
  services: string[];
  /** Non-fatal remarks, e.g. features the bridge only approximates. */
  warnings: string[];
  /** What the Knative admission webhook would refuse (e.g. two keys in one `exact`). */
  admissionProblems: string[];
}

export class ManifestError extends Error {
  constructor(readonly problems: string[]) {
    super(`knative manifests the bridge cannot run (a cluster would refuse or misroute them too):\n  - ${problems.join('\n  - ')}`);
  }
}

/** The cluster default for Brokers without `delivery` (config-br-defaults). */
export const CLUSTER_DEFAULT_DELIVERY = { retry: 10, backoffPolicy: 'exponential', backoffDelay: 'PT0.2S' } as const;

type Doc = {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> };
  spec?: any;
};

/**
 * Parses and resolves; throws ManifestError listing every problem. With `strictAdmission`
 * (the default) what the Knative webhook would refuse is a problem too; without it, it is only
 * reported in `admissionProblems` and routed the way the filter reads (all keys must match).
 */
export function loadBridgeConfig(manifests: string[], subscribers: Record<string, string>, { strictAdmission = true } = {}): BridgeConfig {
  const problems: string[] = [];
  const admissionProblems: string[] = [];
  const docs: Doc[] = [];
  manifests.forEach((text, i) => {
    for (const d of parseAllDocuments(text)) {
      if (d.errors.length > 0) problems.push(`manifest #${i + 1}: ${d.errors[0]!.message}`);
      else if (d.toJS()) docs.push(d.toJS() as Doc);
    }
  });
  const group = (d: Doc) => d.apiVersion?.split('/')[0];
  const of = (g: string, kind: string) => docs.filter((d) => group(d) === g && d.kind === kind);
  const nsOf = (d: Doc) => d.metadata?.namespace ?? 'default';
  const id = (d: Doc) => `${d.kind} ${nsOf(d)}/${d.metadata?.name}`;
  // The same object twice (e.g. a file and a copy of it) would watch and deliver twice.
  const seen = new Set<string>();
  for (const d of docs.filter((x) => ['eventing.knative.dev', 'sources.knative.dev'].includes(group(x) ?? ''))) {
    if (seen.has(id(d))) problems.push(`${id(d)} is declared more than once`);
    seen.add(id(d));
  }
  const brokers = new Set(of('eventing.knative.dev', 'Broker').map((b) => `${nsOf(b)}/${b.metadata?.name}`));
  const brokerDelivery = new Map(of('eventing.knative.dev', 'Broker').map((b) => [`${nsOf(b)}/${b.metadata?.name}`, b.spec?.delivery]));
  const warnings: string[] = [];

  const resolve = (dest: any, ns: string, where: string): Target | undefined => {
    if (!dest || typeof dest !== 'object') return void problems.push(`${where}: missing destination`);
    let base: Target | undefined;
    const ref = dest.ref;
    if (ref) {
      if (ref.kind === 'Broker' && String(ref.apiVersion ?? '').startsWith('eventing.knative.dev/')) {
        const key = `${ref.namespace ?? ns}/${ref.name}`;
        brokers.add(key);
        base = { kind: 'broker', broker: key };
      } else if (ref.kind === 'Service' && String(ref.apiVersion ?? '').startsWith('serving.knative.dev/')) {
        const url = subscribers[ref.name];
        if (!url)
          return void problems.push(
            `${where}: Knative Service "${ref.name}" has no local URL (subscribers has: ${Object.keys(subscribers).join(', ') || 'none'})`,
          );
        base = { kind: 'url', url, label: ref.name };
      } else {
        return void problems.push(`${where}: unsupported ref ${ref.apiVersion} ${ref.kind}`);
      }
    }
    if (dest.uri) {
      if (base?.kind === 'broker') return void problems.push(`${where}: ref to a Broker plus uri is not supported`);
      const url = base ? new URL(dest.uri, base.url).toString() : dest.uri;
      return { kind: 'url', url, label: base?.label ?? url };
    }
    return base ?? void problems.push(`${where}: destination has neither ref nor uri`);
  };

  const delivery = (spec: any, ns: string, where: string): Delivery => {
    const d = spec ?? CLUSTER_DEFAULT_DELIVERY;
    const policy = d.backoffPolicy ?? 'exponential';
    if (policy !== 'exponential' && policy !== 'linear')
      problems.push(`${where}.backoffPolicy: "${policy}" is neither exponential nor linear`);
    const ms = (field: 'backoffDelay' | 'timeout'): number | undefined => {
      if (d[field] === undefined) return undefined;
      try {
        return parseIsoDuration(String(d[field]));
      } catch (e) {
        problems.push(`${where}.${field}: ${(e as Error).message}`);
        return undefined;
      }
    };
    if (d.retryAfterMax !== undefined)
      warnings.push(`${where}.retryAfterMax: Retry-After is not honoured locally (alpha feature, off by default in Knative)`);
    return {
      retry: Number(d.retry ?? 0),
      backoffPolicy: policy,
      // Knative without a backoffDelay does not wait between retries (RetryConfig's Backoff is 0).
      backoffDelayMs: ms('backoffDelay') ?? 0,
      timeoutMs: ms('timeout'),
      deadLetter: d.deadLetterSink ? resolve(d.deadLetterSink, ns, `${where}.deadLetterSink`) : undefined,
    };
  };

  const triggers: TriggerRoute[] = [];
  for (const t of of('eventing.knative.dev', 'Trigger')) {
    const ns = nsOf(t);
    const where = id(t);
    const brokerName = t.spec?.broker ?? t.spec?.brokerRef?.name;
    if (!brokerName) problems.push(`${where}: spec.broker is required`);
    const broker = `${ns}/${brokerName}`;
    brokers.add(broker);
    const filter: TriggerFilterSpec = { filters: t.spec?.filters, filter: t.spec?.filter };
    for (const p of filterProblems(filter)) (p.includes('not supported') ? problems : admissionProblems).push(`${where}: spec.${p}`);
    const sub = t.spec?.subscriber;
    const target = resolve(sub, ns, `${where}: spec.subscriber`);
    if (target?.kind === 'broker') problems.push(`${where}: a Broker as subscriber is not supported`);
    const d = delivery(t.spec?.delivery ?? brokerDelivery.get(broker), ns, `${where}: delivery`);
    if (target?.kind === 'url')
      triggers.push({ name: t.metadata!.name!, namespace: ns, broker, filter, subscriber: target.label, url: target.url, delivery: d });
  }

  const apiServerSources: ApiServerSourceSpec[] = [];
  for (const s of of('sources.knative.dev', 'ApiServerSource')) {
    const where = id(s);
    const resources: WatchedResource[] = s.spec?.resources ?? [];
    if (resources.length === 0) problems.push(`${where}: spec.resources is empty`);
    for (const r of resources) {
      if (!r.apiVersion || !r.kind) problems.push(`${where}: every resource needs apiVersion and kind`);
      for (const e of r.selector?.matchExpressions ?? []) {
        if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.operator))
          problems.push(`${where}: selector operator "${e.operator}" is not In, NotIn, Exists or DoesNotExist`);
      }
    }
    const nsSel = s.spec?.namespaceSelector ?? undefined;
    for (const e of nsSel?.matchExpressions ?? []) {
      if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.operator))
        problems.push(`${where}: namespaceSelector operator "${e.operator}" is not In, NotIn, Exists or DoesNotExist`);
    }
    if (s.spec?.mode !== undefined && s.spec.mode !== 'Resource' && s.spec.mode !== 'Reference')
      problems.push(`${where}: spec.mode "${s.spec.mode}" is neither Resource nor Reference`);
    const sink = resolve(s.spec?.sink, nsOf(s), `${where}: spec.sink`);
    if (sink) {
      apiServerSources.push({
        name: s.metadata!.name!,
        namespace: nsOf(s),
        mode: s.spec?.mode === 'Resource' ? 'Resource' : 'Reference',
        resources,
        serviceAccountName: s.spec?.serviceAccountName || 'default',
        namespaceSelector: nsSel,
        owner: s.spec?.owner,
        filters: s.spec?.filters,
        ceOverrides: s.spec?.ceOverrides,
        failFast: s.metadata?.annotations?.['features.knative.dev/apiserversource-skip-permissions-check'] === 'true',
        sink,
      });
    }
  }

  const pingSources: PingSourceSpec[] = [];
  for (const p of of('sources.knative.dev', 'PingSource')) {
    const sink = resolve(p.spec?.sink, nsOf(p), `${id(p)}: spec.sink`);
    const data =
      p.spec?.dataBase64 !== undefined
        ? Buffer.from(String(p.spec.dataBase64), 'base64')
        : p.spec?.data !== undefined
          ? Buffer.from(String(p.spec.data))
          : undefined;
    if (sink)
      pingSources.push({
        name: p.metadata!.name!,
        namespace: nsOf(p),
        contentType: p.spec?.contentType,
        data,
        extensions: p.spec?.ceOverrides?.extensions ?? {},
        sink,
      });
  }

  if (strictAdmission) problems.push(...admissionProblems.map((p) => `${p} (the Knative webhook refuses this Trigger)`));
  if (problems.length > 0) throw new ManifestError(problems);
  const services = of('serving.knative.dev', 'Service').map((d) => d.metadata?.name ?? '');
  return { triggers, apiServerSources, pingSources, brokers: [...brokers].sort(), services, warnings, admissionProblems };
}
