/**
 * The local event bridge: Knative Eventing's data plane for `npm start` and the tests, driven by
 * the same manifests a cluster gets (knative/). A dev/test component: functions/ and shared/
 * never import it.
 *
 *   ApiServerSources ──watch──▶ Broker ◀── POST (K_SINK, replies) ── functions
 *   PingSources ──tick───────▶   │
 *                                └── Triggers (filters, delivery) ──POST──▶ functions
 *
 * See README.md beside this file for what is faithful to Knative and what is approximated.
 */
import { connectionFromKubeconfig } from '../../shared/kube/kubeconfig.js';
import { describe, type BridgeEvent } from './cloudevent.js';
import { LocalBroker, type BrokerStats, type DeadLetter } from './broker.js';
import { startIngress } from './ingress.js';
import { loadBridgeConfig, type TriggerRoute } from './manifests.js';
import { startApiServerSource, type RunningSource } from './apiserver-source.js';
import { startPingSource } from './ping-source.js';
import { sleep } from '../kube/watch.js';

export interface BridgeOptions {
  /** Kubeconfig YAML text for the cluster the ApiServerSources watch. */
  kubeconfig: string;
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
  /** How long start waits for each watch's first LIST before going on without it; default 15 s. */
  readyTimeoutMs?: number;
  /**
   * Refuse manifests the Knative admission webhook would refuse (default true). false = route
   * them anyway and log each problem, e.g. to keep a local stack running while they are fixed.
   */
  strictAdmission?: boolean;
  /** Watch tuning, for tests. */
  watch?: { timeoutSeconds?: number; backoff?: { initialMs: number; maxMs: number } };
}

export interface BridgeStats extends BrokerStats {
  watches: {
    source: string;
    path: string;
    labelSelector?: string;
    lists: number;
    watches: number;
    relistsAfterGone: number;
    errors: number;
    resourceVersion?: string;
  }[];
}

export interface Bridge {
  /** The default Broker's ingress URL (`…/<namespace>/<broker>`): the functions' K_SINK. */
  ingressUrl: string;
  /** The routing table built from the Triggers. */
  routes: Pick<TriggerRoute, 'name' | 'namespace' | 'broker' | 'subscriber' | 'url' | 'delivery'>[];
  deadLetters: DeadLetter[];
  stats(): BridgeStats;
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
  const conn = config.apiServerSources.length > 0 ? connectionFromKubeconfig(opts.kubeconfig) : undefined;
  const broker = new LocalBroker(brokers, config.triggers, {
    log,
    backoffScale: opts.backoffScale ?? 1,
    maxInFlight: opts.maxInFlight ?? 32,
  });
  const ingress = await startIngress(broker, defaultBroker, opts.ingressPort ?? 0, log);
  const stopWatches = new AbortController();

  const dropped = (ev: BridgeEvent) => (r: { status: number; error?: string }) =>
    log(`source event ${describe(ev)} dropped: sink answered ${r.status}${r.error ? ` (${r.error})` : ''}`);

  const sources: RunningSource[] = [];
  for (const spec of conn ? config.apiServerSources : []) {
    const emit = (ev: BridgeEvent) => broker.emitTo(spec.sink, ev, { 'kn-namespace': spec.namespace }, dropped(ev));
    sources.push(
      startApiServerSource(spec, conn!, emit, log, stopWatches.signal, {
        watchTimeoutSeconds: opts.watch?.timeoutSeconds,
        backoff: opts.watch?.backoff,
      }),
    );
  }
  const pings = config.pingSources.map((spec) =>
    startPingSource(spec, opts.pingIntervalMs ?? 60_000, (ev) =>
      broker.emitTo(spec.sink, ev, { 'kn-namespace': spec.namespace }, dropped(ev)),
    ),
  );

  // Objects that exist before the first LIST are never announced (edge-triggered, like the
  // adapter); waiting here makes "created after startBridge resolved" mean "gets an event".
  const readyTimeoutMs = opts.readyTimeoutMs ?? 15_000;
  const allReady = Promise.all(sources.map((s) => s.ready)).then(() => true);
  const giveUp = new AbortController();
  const listed = await Promise.race([allReady, sleep(readyTimeoutMs, giveUp.signal).then(() => false)]);
  giveUp.abort();
  if (!listed) {
    log(`warning: not every watch has listed after ${readyTimeoutMs} ms; still retrying in the background`);
  }
  log(
    `ready: ingress ${ingress.origin}/${defaultBroker}, ${config.triggers.length} triggers, ${sources.reduce((n, s) => n + s.watches.length, 0)} watches, ${pings.length} ping sources`,
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
    stats: () => ({
      ...broker.stats(),
      watches: sources.flatMap((s) =>
        s.watches.map((w) => ({ source: w.source, path: w.path, labelSelector: w.labelSelector, ...w.stats })),
      ),
    }),
    idle: () => broker.idle(),
    stop: () =>
      (stopped ??= (async () => {
        stopWatches.abort();
        for (const p of pings) p.stop();
        await Promise.all(sources.map((s) => s.done));
        await broker.stop();
        await ingress.close();
      })()),
  };
}

export { loadBridgeConfig, ManifestError } from './manifests.js';
export type { DeadLetter } from './broker.js';
export type { BridgeEvent } from './cloudevent.js';
