/**
 * A cache of one resource kind kept current by list + watch (or list polling), with handlers.
 *
 * Level-based: every (re)list replays the whole state (vanished objects become DELETED), so
 * the controllers continue where each object is after a restart or a lost watch.
 * Pitfalls handled (reference §6.5): a watch ends normally every timeoutSeconds → rewatch from
 * the last resourceVersion; 410 Gone → relist; any other error → relist after a backoff.
 * Writes the simulator makes are fed back through ingest() at once ("write-through"), and events
 * older than what the cache holds are dropped, so a late event never rolls an object back.
 */
import { apiVersionOf, collectionPath, type Kind } from '../../../shared/kube/paths.js';
import { sleep, type Lifetime } from '../lifetime.js';
import type { SimulatorTimings } from '../options.js';
import type { StatsRecorder } from '../stats.js';
import type { KubeApi } from './api.js';
import { WatchHttpError, type WatchEvent } from './watch-stream.js';

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

const WATCH_TIMEOUT_SECONDS = 60;
const WATCH_IDLE_MS = 90_000;
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
    return new Promise((resolve) => {
      let pending = scopes.length;
      for (const ns of scopes) {
        let first = true;
        const onListed = (): void => {
          if (!first) return;
          first = false;
          if (--pending === 0) resolve();
        };
        this.life.run(`${this.kind.plural} list/watch`, this.loop(ns, onListed), (e) => this.log(String(e)));
      }
    });
  }

  private collection(ns: string | undefined): string {
    if (ns !== undefined) return collectionPath(this.kind, ns);
    return `${this.kind.group ? `/apis/${this.kind.group}/${this.kind.version}` : `/api/${this.kind.version}`}/${this.kind.plural}`;
  }

  private async loop(ns: string | undefined, onListed: () => void): Promise<void> {
    const signal = this.life.signal;
    const path = this.collection(ns);
    let delay = this.timings.watchRetryMs;
    let rv: string | undefined;
    while (!signal.aborted) {
      try {
        if (rv === undefined) {
          const list = await this.api.request<{ items?: any[]; metadata?: { resourceVersion?: string } }>('GET', path);
          if (signal.aborted) return;
          this.replace(ns, list.items ?? []);
          rv = list.metadata?.resourceVersion ?? '0';
          onListed();
          delay = this.timings.watchRetryMs;
        }
        if (!this.api.watch) {
          await sleep(this.timings.pollMs, signal);
          rv = undefined;
          continue;
        }
        const query = { resourceVersion: rv, allowWatchBookmarks: 'true', timeoutSeconds: String(WATCH_TIMEOUT_SECONDS) };
        await this.api.watch(path, query, (e: WatchEvent) => {
          rv = e.object?.metadata?.resourceVersion ?? rv;
          if (e.type === 'ADDED' || e.type === 'MODIFIED' || e.type === 'DELETED') this.ingest(e.type, e.object);
        }, signal, WATCH_IDLE_MS);
        // A normal end (server-side timeout): watch again from the last resourceVersion.
      } catch (e) {
        if (signal.aborted) return;
        if (e instanceof WatchHttpError && e.status === 410) {
          rv = undefined; // history compacted: relist now
          continue;
        }
        this.stats.inc('watchErrors');
        this.log(`${this.kind.plural}${ns ? ` in ${ns}` : ''}: ${e instanceof Error ? e.message : String(e)}; relisting in ${delay} ms`);
        rv = undefined;
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
