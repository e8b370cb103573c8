/**
 * The local stand-in for an MTChannelBasedBroker: accepts events (from the sources, the ingress
 * and replies), fans each out to every matching Trigger of its Broker, and delivers them as the
 * broker filter does.
 *
 * - Ingress: sets `knativearrivaltime`; sets `knativebrokerttl` to 255 when absent. A reply
 *   inherits the TTL of the event it answers, minus one, and is dropped at 0 — the broker's
 *   loop guard for a function whose reply matches its own Trigger.
 * - Delivery: binary mode, `knativebrokerttl` stripped, `Prefer: reply`, `Kn-Namespace` = the
 *   Trigger's namespace, per-attempt timeout, retries and backoff from the Trigger's delivery.
 * - Concurrent and unordered, like the MT broker (parallel dispatch, retries reorder); at most
 *   `maxInFlight` HTTP attempts at a time.
 * - Dead letters: recorded, printed as one line, and — when the dead-letter sink is a Broker of
 *   this bridge — accepted there with knativeerrordest/knativeerrorcode/knativeerrordata, so a
 *   Trigger on it sees them as on a cluster. A URL sink gets one delivery with the same retries.
 */
import { binaryHeaders, describe, rfc3339Nano, type BridgeEvent } from './cloudevent.js';
import { triggerMatches } from './filters.js';
import { isRetryable, Limiter, sendWithRetries, type AttemptResult } from './dispatcher.js';
import type { Target, TriggerRoute } from './manifests.js';

type SendDelivery = Parameters<typeof sendWithRetries>[3];

/**
 * The receive adapter's own client when its sink is not a Broker: 5 retries waiting 100, 200 …
 * 1600 ms, on network errors and 404/413/425/429/502/503/504 only — not 500 (reference §1.4).
 */
const ADAPTER_DELIVERY: SendDelivery = { retry: 5, backoffPolicy: 'exponential', backoffDelayMs: 100, timeoutMs: undefined };
const adapterRetryable = (s: number) => s === 0 || [404, 413, 425, 429, 502, 503, 504].includes(s);

const DEFAULT_TTL = 255;
/** Knative caps knativeerrordata: base64 of the failing response's body (or of the network error). */
const ERROR_DATA_MAX = 1024;

export interface DeadLetter {
  event: BridgeEvent;
  trigger: string;
  /** HTTP status of the last attempt; 0 when there was no response. */
  lastStatus: number;
  lastError?: string;
}

export interface DeliveryCounts {
  delivered: number;
  retried: number;
  deadLettered: number;
}

export interface BrokerStats extends DeliveryCounts {
  accepted: number;
  replies: number;
  droppedTtl: number;
  inFlight: number;
  byTrigger: Record<string, DeliveryCounts>;
}

export class LocalBroker {
  readonly deadLetters: DeadLetter[] = [];
  private readonly limiter: Limiter;
  private readonly counts: Omit<BrokerStats, 'inFlight' | 'byTrigger'> = {
    accepted: 0,
    replies: 0,
    droppedTtl: 0,
    delivered: 0,
    retried: 0,
    deadLettered: 0,
  };
  private readonly byTrigger = new Map<string, DeliveryCounts>();
  private readonly pending = new Set<Promise<void>>();
  private readonly stopping = new AbortController();

  constructor(
    private readonly brokers: Set<string>,
    private readonly triggers: TriggerRoute[],
    private readonly opts: { log: (line: string) => void; backoffScale: number; maxInFlight: number },
  ) {
    this.limiter = new Limiter(opts.maxInFlight);
    for (const t of triggers) this.byTrigger.set(t.name, { delivered: 0, retried: 0, deadLettered: 0 });
  }

  has(broker: string): boolean {
    return this.brokers.has(broker);
  }

  /** Takes an event in at `broker`'s ingress. Returns false for an unknown Broker. */
  accept(broker: string, ev: BridgeEvent): boolean {
    if (!this.brokers.has(broker) || this.stopping.signal.aborted) return false;
    const attributes: Record<string, string> = { ...ev.attributes, knativearrivaltime: rfc3339Nano() };
    attributes.knativebrokerttl ??= String(DEFAULT_TTL);
    const event = { ...ev, attributes };
    this.counts.accepted++;
    for (const t of this.triggers) {
      if (t.broker === broker && triggerMatches(t.filter, event)) this.track(this.deliver(t, event));
    }
    return true;
  }

  /** Sends a source's event to its sink (a Broker, or a URL like an adapter would). */
  emitTo(
    sink: Target,
    ev: BridgeEvent,
    extraHeaders: Record<string, string>,
    onFailure: (r: AttemptResult) => void,
    delivery: SendDelivery = ADAPTER_DELIVERY,
    retryable: (status: number) => boolean = adapterRetryable,
  ): void {
    if (sink.kind === 'broker') {
      if (!this.accept(sink.broker, ev)) onFailure({ status: 404, error: `no Broker ${sink.broker}` });
      return;
    }
    this.track(
      (async () => {
        const out = await sendWithRetries(sink.url, { ...binaryHeaders(ev), ...extraHeaders }, ev.data, delivery, {
          limiter: this.limiter,
          signal: this.stopping.signal,
          backoffScale: this.opts.backoffScale,
          wantReplies: false,
          retryable,
        });
        if (!out.ok && !this.stopping.signal.aborted) onFailure(out.last);
      })(),
    );
  }

  stats(): BrokerStats {
    const byTrigger: Record<string, DeliveryCounts> = {};
    for (const [name, c] of this.byTrigger) byTrigger[name] = { ...c };
    return { ...this.counts, inFlight: this.pending.size, byTrigger };
  }

  /** Resolves when nothing is being delivered or waiting for a retry. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Abandons pending deliveries and retries (they are neither delivered nor dead-lettered). */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.idle();
  }

  private track(p: Promise<void>): void {
    const tracked = p.catch((e) => this.opts.log(`internal error: ${(e as Error).message}`)).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  private async deliver(t: TriggerRoute, ev: BridgeEvent): Promise<void> {
    const counts = this.byTrigger.get(t.name)!;
    const { knativebrokerttl: ttl, ...attributes } = ev.attributes;
    const headers = { ...binaryHeaders({ ...ev, attributes }), prefer: 'reply', 'kn-namespace': t.namespace };
    const out = await sendWithRetries(t.url, headers, ev.data, t.delivery, {
      limiter: this.limiter,
      signal: this.stopping.signal,
      backoffScale: this.opts.backoffScale,
      wantReplies: true,
      onRetry: () => {
        counts.retried++;
        this.counts.retried++;
      },
    });
    if (this.stopping.signal.aborted && !out.ok) return;
    if (out.ok) {
      counts.delivered++;
      this.counts.delivered++;
      if (out.last.reply) this.reply(t, out.last.reply, Number(ttl ?? DEFAULT_TTL));
      return;
    }
    counts.deadLettered++;
    this.counts.deadLettered++;
    const dl: DeadLetter = {
      event: ev,
      trigger: t.name,
      lastStatus: out.last.status,
      ...(out.last.error ? { lastError: out.last.error } : {}),
    };
    this.deadLetters.push(dl);
    const why = out.last.status === 0 ? ` (${out.last.error})` : '';
    this.opts.log(
      `dead letter: ${ev.attributes.type} ${ev.attributes.subject ?? ev.attributes.source} via trigger ${t.name}: last status ${out.last.status}${why}`,
    );
    if (t.delivery.deadLetter) this.toDeadLetterSink(t, ev, out.last);
  }

  private reply(t: TriggerRoute, reply: BridgeEvent, ttl: number): void {
    this.counts.replies++;
    const left = (Number.isFinite(ttl) ? ttl : DEFAULT_TTL) - 1;
    if (left <= 0) {
      this.counts.droppedTtl++;
      this.opts.log(`reply ${describe(reply)} from trigger ${t.name} dropped: knativebrokerttl exhausted (a reply loop?)`);
      return;
    }
    this.accept(t.broker, { ...reply, attributes: { ...reply.attributes, knativebrokerttl: String(left) } });
  }

  private toDeadLetterSink(t: TriggerRoute, ev: BridgeEvent, last: AttemptResult): void {
    const { knativebrokerttl: _ttl, ...sent } = ev.attributes;
    const attributes: Record<string, string> = { ...sent, knativeerrordest: t.url, knativeerrorcode: String(last.status || 500) };
    if (last.error) attributes.knativeerrordata = Buffer.from(last.error).toString('base64').slice(0, ERROR_DATA_MAX);
    const dead = { ...ev, attributes };
    const sink = t.delivery.deadLetter!;
    const refused = (r: AttemptResult) =>
      this.opts.log(`dead-letter sink ${sink.kind === 'broker' ? sink.broker : sink.url} refused ${describe(ev)}: status ${r.status}`);
    this.emitTo(sink, dead, { 'kn-namespace': t.namespace }, refused, t.delivery, isRetryable);
  }
}
