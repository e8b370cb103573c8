/**
 * A cache of one resource kind kept current by list + watch (or list polling), with handlers.
 *
 * Level-based: every (re)list replays the whole state (vanished objects become DELETED), so
 * the controllers continue where each object is after a restart or a lost watch.
 * Pitfalls handled (reference §6.5) by dev/kube/watch.ts's listWatch: a watch ends normally
 * every timeoutSeconds → rewatch from the last resourceVersion; 410 Gone → relist; any other
 * error → relist after a backoff.
 * Writes the simulator makes are fed back through ingest() at once ("write-through"), and events
 * older than what the cache holds are dropped, so a late event never rolls an object back.
 */
import { apiVersionOf, collectionPath, type Kind } from '../../../shared/kube/paths.js';
import { listWatch } from '../../kube/watch.js';
import { sleep, type Lifetime } from '../lifetime.js';
import type { SimulatorTimings } from '../options.js';
import type { StatsRecorder } from '../stats.js';
import type { KubeApi } from './api.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export type Handler = (type: EventType, obj: any, old: any | undefined) => void;

export const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;
const objKey = (o: any): string => keyOf(o.metadata.namespace ?? '', o.metadata.name);

/** True when resourceVersion `a` is newer than `b` (numeric when both are, as etcd's are). */
function newerRv(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return true;
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return BigInt(a) > BigInt(b);
  return a !== b;
}

/** Server-side timeout of one watch; a watch silent for 30 s longer is dropped as dead. */
const WATCH_TIMEOUT_SECONDS = 60;
const MAX_RETRY_MS = 5_000;

export class Informer {
  private readonly objects = new Map<string, any>();
  private readonly handlers: Handler[] = [];

  constructor(
    readonly kind: Kind,
    private readonly api: KubeApi,
    private readonly life: Lifetime,
    private readonly timings: SimulatorTimings,
    private readonly stats: StatsRecorder,
    private readonly log: (line: string) => void,
  ) {}

  on(handler: Handler): void {
    this.handlers.push(handler);
  }

  get(namespace: string, name: string): any | undefined {
    return this.objects.get(keyOf(namespace, name));
  }

  list(namespace?: string): any[] {
    const all = [...this.objects.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  get size(): number {
    return this.objects.size;
  }

  /** Applies one observed state (watch event, list item or the answer to our own write). */
  ingest(type: EventType, obj: any): void {
    if (!obj?.metadata?.name) return;
    obj.apiVersion ??= apiVersionOf(this.kind);
    obj.kind ??= this.kind.kind;
    const key = objKey(obj);
    const cur = this.objects.get(key);
    if (type === 'DELETED') {
      if (!cur || (obj.metadata.uid && cur.metadata.uid !== obj.metadata.uid)) return;
      this.objects.delete(key);
      this.notify('DELETED', obj, cur);
      return;
    }
    if (cur && cur.metadata.uid === obj.metadata.uid && !newerRv(obj.metadata.resourceVersion, cur.metadata.resourceVersion)) return;
    if (cur && cur.metadata.uid !== obj.metadata.uid) {
      // Same name, new object: the old one is gone even if its DELETED event was missed.
      this.objects.delete(key);
      this.notify('DELETED', cur, cur);
    }
    this.objects.set(key, obj);
    this.notify(cur && cur.metadata.uid === obj.metadata.uid ? 'MODIFIED' : 'ADDED', obj, cur);
  }

  private notify(type: EventType, obj: any, old: any): void {
    this.stats.inc('eventsApplied');
    for (const h of this.handlers) {
      try {
        h(type, obj, old);
      } catch (e) {
        this.log(`${this.kind.kind} handler failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  /** A full list for one scope: everything listed is (re)applied, everything missing is deleted. */
  private replace(namespace: string | undefined, items: any[]): void {
    this.stats.inc('relists');
    const seen = new Set<string>();
    for (const item of items) {
      seen.add(objKey(item));
      this.ingest('MODIFIED', item);
    }
    for (const [key, obj] of [...this.objects]) {
      if (seen.has(key)) continue;
      if (namespace !== undefined && obj.metadata.namespace !== namespace) continue;
      this.objects.delete(key);
      this.notify('DELETED', obj, obj);
    }
  }

  /**
   * Starts one list/watch loop per scope (each namespace, or the whole cluster); resolves once
   * every scope has been listed once.
   */
  start(namespaces: string[] | undefined): Promise<void> {
    const scopes = namespaces && namespaces.length > 0 ? namespaces : [undefined];
    return Promise.all(
      scopes.map((ns) => {
        const name = `${this.kind.plural} list/watch`;
        const onError = (message: string, delay: number): void => {
          this.stats.inc('watchErrors');
          this.log(`${this.kind.plural}${ns ? ` in ${ns}` : ''}: ${message}; relisting in ${delay} ms`);
        };
        if (!this.api.kube) {
          let listed!: () => void;
          const ready = new Promise<void>((r) => (listed = r));
          this.life.run(name, this.poll(ns, listed, onError), (e) => this.log(String(e)));
          return ready;
        }
        const w = listWatch(this.api.kube, {
          path: this.collection(ns),
          signal: this.life.signal,
          relistOnError: true,
          watchTimeoutSeconds: WATCH_TIMEOUT_SECONDS,
          backoff: { initialMs: this.timings.watchRetryMs, maxMs: MAX_RETRY_MS },
          onList: (items) => this.replace(ns, items),
          onEvent: (type, obj) => this.ingest(type, obj),
          onError,
          log: this.log,
        });
        this.life.run(name, w.done, (e) => this.log(String(e)));
        return w.ready;
      }),
    ).then(() => undefined);
  }

  private collection(ns: string | undefined): string {
    if (ns !== undefined) return collectionPath(this.kind, ns);
    return `${this.kind.group ? `/apis/${this.kind.group}/${this.kind.version}` : `/api/${this.kind.version}`}/${this.kind.plural}`;
  }

  /** Without a streaming client: a full list every pollMs, errors retried after a backoff. */
  private async poll(ns: string | undefined, onListed: () => void, onError: (message: string, delay: number) => void): Promise<void> {
    const signal = this.life.signal;
    const path = this.collection(ns);
    let delay = this.timings.watchRetryMs;
    while (!signal.aborted) {
      try {
        const list = await this.api.request<{ items?: any[] }>('GET', path);
        if (signal.aborted) return;
        this.replace(ns, list.items ?? []);
        onListed();
        delay = this.timings.watchRetryMs;
        await sleep(this.timings.pollMs, signal);
      } catch (e) {
        if (signal.aborted) return;
        onError(e instanceof Error ? e.message : String(e), delay);
        try {
          await sleep(delay, signal);
        } catch {
          return;
        }
        delay = Math.min(delay * 2, MAX_RETRY_MS);
      }
    }
  }
}
