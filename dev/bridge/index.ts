/**
 * The local event bridge: Knative Eventing's data plane for `npm start` and the tests, driven by
 * the same manifests a cluster gets (knative/). A dev/test component: functions/ and shared/
 * never import it.
 *
 *   ApiServerSources: Knative's receive adapter, one process each ──POST──▶ Broker ingress
 *   PingSources ──tick──────────────────────────────────────────────────▶ Broker ◀── POST (K_SINK, replies) ── functions
 *                                                                            │
 *                                        Triggers (filters, delivery) ──POST──▶ functions
 *
 * See README.md beside this file for what is Knative's own code, what is faithful to Knative
 * and what is approximated.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectionFromKubeconfig } from '../../shared/kube/kubeconfig.js';
import { KubeClient } from '../../shared/kube/rest.js';
import { describe, type BridgeEvent } from './cloudevent.js';
import { LocalBroker, type BrokerStats, type DeadLetter } from './broker.js';
import { startIngress } from './ingress.js';
import { loadBridgeConfig, type ApiServerSourceSpec, type TriggerRoute } from './manifests.js';
import { labelSelectorString, startAdapter, type AdapterStats, type RunningAdapter, type WatchedNamespaces } from './apiserver-adapter.js';
import { startPingSource } from './ping-source.js';
import { ensureAdapter } from '../upstream/adapter.js';
import { sleep } from '../kube/watch.js';

/** The ApiServerSource an adapter runs for, as its credentials are chosen. */
export interface SourceIdentity {
  namespace: string;
  name: string;
  serviceAccountName: string;
}

export interface BridgeOptions {
  /**
   * Kubeconfig YAML text for the cluster the ApiServerSources watch: the adapters' credentials
   * unless `sourceKubeconfig` says otherwise, and what resolves a labelled namespaceSelector.
   */
  kubeconfig: string;
  /**
   * Kubeconfig text an ApiServerSource's adapter runs with, e.g. a token of the source's
   * `serviceAccountName` (as its Deployment runs in a cluster). Default: `kubeconfig`.
   */
  sourceKubeconfig?: (source: SourceIdentity) => string | Promise<string>;
  /** The receive adapter binary; default: dev/upstream/build-adapter.sh's (built once per machine). */
  adapterBinary?: string;
  /** YAML texts (e.g. every file of knative/); Broker, Trigger, ApiServerSource and PingSource are used. */
  manifests: string[];
  /** Knative Service name → local URL of the function serving it. */
  subscribers: Record<string, string>;
  log?: (line: string) => void;
  /** Ingress port on 127.0.0.1; 0 or absent = any free port. */
  ingressPort?: number;
  /** PingSource tick interval (the cron schedule is not used locally); default 60 s. */
  pingIntervalMs?: number;
  /** Multiplies every retry backoff (tests: 0.05 turns Knative's 205 s into 10 s). Default 1. */
  backoffScale?: number;
  /** Concurrent delivery attempts; default 32. */
  maxInFlight?: number;
  /** How long start waits for every adapter to watch before going on without it; default 30 s. */
  readyTimeoutMs?: number;
  /**
   * Refuse manifests the Knative admission webhook would refuse (default true). false = route
   * them anyway and log each problem, e.g. to keep a local stack running while they are fixed.
   */
  strictAdmission?: boolean;
  /** Restart backoff for an adapter that exits on its own (default 1 s doubling to 30 s). */
  adapterRestartBackoff?: { initialMs: number; maxMs: number };
}

export interface BridgeStats extends BrokerStats {
  /** One per ApiServerSource: its adapter process. */
  adapters: AdapterStats[];
}

export interface Bridge {
  /** The default Broker's ingress URL (`…/<namespace>/<broker>`): the functions' K_SINK. */
  ingressUrl: string;
  /** The routing table built from the Triggers. */
  routes: Pick<TriggerRoute, 'name' | 'namespace' | 'broker' | 'subscriber' | 'url' | 'delivery'>[];
  deadLetters: DeadLetter[];
  stats(): BridgeStats;
  /** The adapters' recent log lines, by source (`<namespace>/<name>`). */
  adapterLogs(): Record<string, string[]>;
  /** Resolves once no delivery is in flight or waiting for a retry. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

const defaultLog = (line: string) => void process.stderr.write(`[bridge] ${line}\n`);

export async function startBridge(opts: BridgeOptions): Promise<Bridge> {
  const log = opts.log ?? defaultLog;
  const config = loadBridgeConfig(opts.manifests, opts.subscribers, { strictAdmission: opts.strictAdmission ?? true });
  for (const w of config.warnings) log(`warning: ${w}`);
  for (const p of config.admissionProblems) log(`warning: a cluster would refuse this: ${p}`);
  const brokers = new Set(config.brokers);
  if (brokers.size === 0) brokers.add('default/default');
  const defaultBroker = [...brokers].find((b) => b.endsWith('/default')) ?? [...brokers][0]!;
  // Parsed before anything starts, so a bad kubeconfig leaves nothing running.
  const sources = config.apiServerSources;
  if (sources.length > 0) connectionFromKubeconfig(opts.kubeconfig);
  const binary = sources.length > 0 ? (opts.adapterBinary ?? ensureAdapter()) : '';
  const broker = new LocalBroker(brokers, config.triggers, {
    log,
    backoffScale: opts.backoffScale ?? 1,
    maxInFlight: opts.maxInFlight ?? 32,
  });
  const ingress = await startIngress(broker, defaultBroker, opts.ingressPort ?? 0, log);

  const dropped = (ev: BridgeEvent) => (r: { status: number; error?: string }) =>
    log(`source event ${describe(ev)} dropped: sink answered ${r.status}${r.error ? ` (${r.error})` : ''}`);

  const dir = mkdtempSync(path.join(tmpdir(), 'kmf-adapters-'));
  const adapters: RunningAdapter[] = [];
  const stopAdapters = async () => {
    await Promise.all(adapters.map((a) => a.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const watchedBy = await watchedNamespaces(sources, opts.kubeconfig, log);
    for (const spec of sources) {
      const id = { namespace: spec.namespace, name: spec.name, serviceAccountName: spec.serviceAccountName };
      const file = path.join(dir, `${spec.namespace}.${spec.name}.kubeconfig`);
      writeFileSync(file, opts.sourceKubeconfig ? await opts.sourceKubeconfig(id) : opts.kubeconfig, { mode: 0o600 });
      // The adapter posts to the sink itself: our Broker's ingress, or the sink URI.
      const sinkUrl = spec.sink.kind === 'broker' ? `${ingress.origin}/${spec.sink.broker}` : spec.sink.url;
      adapters.push(
        startAdapter({
          binary,
          spec,
          watched: watchedBy.get(spec)!,
          sinkUrl,
          kubeconfigFile: file,
          log,
          restartBackoff: opts.adapterRestartBackoff,
        }),
      );
    }
  } catch (e) {
    await stopAdapters();
    await ingress.close();
    throw e;
  }
  const pings = config.pingSources.map((spec) =>
    startPingSource(spec, opts.pingIntervalMs ?? 60_000, (ev) =>
      broker.emitTo(spec.sink, ev, { 'kn-namespace': spec.namespace }, dropped(ev)),
    ),
  );

  // Objects that exist before an adapter's reflector has listed are never announced (the
  // adapter drops its initial list); waiting here makes "created after startBridge resolved"
  // mean "gets an event".
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  const t0 = Date.now();
  const allReady = Promise.all(adapters.map((a) => a.ready)).then(() => true);
  const giveUp = new AbortController();
  const watching = await Promise.race([allReady, sleep(readyTimeoutMs, giveUp.signal).then(() => false)]);
  giveUp.abort();
  if (!watching) {
    const late = adapters.map((a) => a.stats()).filter((s) => !s.ready);
    log(
      `warning: not every adapter watches after ${readyTimeoutMs} ms (${late.map((s) => `${s.source}${s.missing.length ? `, missing ${s.missing.join(' ')}` : ''}`).join('; ')}); they keep retrying in the background`,
    );
  }
  log(
    `ready: ingress ${ingress.origin}/${defaultBroker}, ${config.triggers.length} triggers, ${adapters.length} ApiServerSource adapters${adapters.length ? ` (watching after ${Date.now() - t0} ms)` : ''}, ${pings.length} ping sources`,
  );

  let stopped: Promise<void> | undefined;
  return {
    ingressUrl: `${ingress.origin}/${defaultBroker}`,
    routes: config.triggers.map(({ name, namespace, broker: b, subscriber, url, delivery }) => ({
      name,
      namespace,
      broker: b,
      subscriber,
      url,
      delivery,
    })),
    deadLetters: broker.deadLetters,
    stats: () => ({ ...broker.stats(), adapters: adapters.map((a) => a.stats()) }),
    adapterLogs: () => Object.fromEntries(adapters.map((a) => [a.stats().source, [...a.logs]])),
    idle: () => broker.idle(),
    stop: () =>
      (stopped ??= (async () => {
        for (const p of pings) p.stop();
        await stopAdapters();
        await broker.stop();
        await ingress.close();
      })()),
  };
}

/**
 * Which namespaces each source's adapter watches, resolved as the ApiServerSource controller
 * does at reconcile time: no namespaceSelector = the source's namespace; an empty one = all
 * namespaces; labels = the namespaces carrying them now (listed with `kubeconfig`).
 */
async function watchedNamespaces(
  sources: ApiServerSourceSpec[],
  kubeconfig: string,
  log: (line: string) => void,
): Promise<Map<ApiServerSourceSpec, WatchedNamespaces>> {
  const out = new Map<ApiServerSourceSpec, WatchedNamespaces>();
  let kube: KubeClient | undefined;
  try {
    for (const s of sources) {
      const sel = labelSelectorString(s.namespaceSelector);
      if (!s.namespaceSelector) out.set(s, { namespaces: [s.namespace], allNamespaces: false });
      else if (sel === undefined) out.set(s, { namespaces: [], allNamespaces: true });
      else {
        kube ??= new KubeClient(connectionFromKubeconfig(kubeconfig));
        const list = await kube.request<{ items: { metadata: { name: string } }[] }>('GET', '/api/v1/namespaces', {
          query: { labelSelector: sel },
        });
        const namespaces = list.items.map((n) => n.metadata.name).sort();
        out.set(s, { namespaces, allNamespaces: false });
        log(`${s.namespace}/${s.name}: namespaceSelector ${sel} selects ${namespaces.length ? namespaces.join(', ') : 'no namespace'}`);
      }
    }
  } finally {
    kube?.close();
  }
  return out;
}

export { loadBridgeConfig, ManifestError } from './manifests.js';
export type { AdapterStats } from './apiserver-adapter.js';
export type { DeadLetter } from './broker.js';
export type { BridgeEvent } from './cloudevent.js';
