/**
 * Kubernetes watches for dev/, cli/ and test/, on the project's one client (KubeClient.open):
 *
 * - watchStream(): one watch request, its newline-delimited JSON events handed over as they come;
 * - watchUntil(): one watch until a condition holds, with a deadline;
 * - listWatch(): list-then-watch kept alive like client-go's Reflector (see below).
 *
 * The functions never import this module (they are driven by events and never watch), so it
 * stays out of their bundles; it lives in dev/ for that reason.
 */
import type { KubeClient } from '../../shared/kube/rest.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
export interface WatchEvent {
  type: WatchEventType;
  object: any;
}
export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';
const isChange = (t: string): t is ChangeType => t === 'ADDED' || t === 'MODIFIED' || t === 'DELETED';

/** A watch the server refused (non-2xx), or an ERROR event in its stream: 410 Gone means relist. */
export class WatchStatusError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface StreamOptions {
  /** Query parameters besides `watch=1` (resourceVersion, allowWatchBookmarks, timeoutSeconds, selectors). */
  query?: Query;
  /** Aborting ends the watch at once; the promise then resolves. */
  signal?: AbortSignal;
  /** No byte for this long (not even a bookmark) means a dead connection: the watch fails. */
  idleTimeoutMs?: number;
}

/** The Status message of a refusal's body, else its first 200 characters. */
function statusText(text: string): string {
  try {
    return String(JSON.parse(text).message ?? text).slice(0, 200);
  } catch {
    return text.slice(0, 200);
  }
}

/**
 * One watch request: calls `onEvent` for each event, in order, until the server ends the stream,
 * `onEvent` returns true or `signal` aborts; then resolves with the number of ADDED, MODIFIED
 * and DELETED events delivered. Rejects with WatchStatusError when the watch is refused or the
 * stream carries an ERROR event, and with an Error for network trouble, a connection closed
 * mid-stream or silent for `idleTimeoutMs`, a line that is not JSON, or an `onEvent` that throws.
 */
export function watchStream(
  kube: KubeClient,
  path: string,
  onEvent: (e: WatchEvent) => boolean | void,
  opts: StreamOptions = {},
): Promise<number> {
  const { signal, idleTimeoutMs } = opts;
  return new Promise<number>((resolve, reject) => {
    if (signal?.aborted) return resolve(0);
    let settled = false;
    let delivered = 0;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      req.destroy();
      if (err) reject(err);
      else resolve(delivered);
    };
    const onAbort = (): void => finish();
    const req = kube.open('GET', path, { query: { ...opts.query, watch: 1 } });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      res.on('error', (e) => finish(e));
      if (status < 200 || status >= 300) {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => finish(new WatchStatusError(status, `watch ${path}: HTTP ${status}: ${statusText(text)}`)));
        return;
      }
      let buffered = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let nl: number;
        while (!settled && (nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (!line) continue;
          let event: WatchEvent;
          try {
            event = JSON.parse(line) as WatchEvent;
          } catch {
            return finish(new Error(`watch ${path}: the stream carried a line that is not JSON`));
          }
          if (event.type === 'ERROR') {
            const code = Number(event.object?.code ?? 500);
            return finish(new WatchStatusError(code, `watch ${path}: ERROR ${code}: ${event.object?.message ?? ''}`));
          }
          if (isChange(event.type)) delivered++;
          try {
            if (onEvent(event) === true) return finish();
          } catch (e) {
            return finish(e instanceof Error ? e : new Error(String(e)));
          }
        }
      });
      res.on('end', () => finish());
      // A connection cut mid-stream ends without 'end'; 'close' always comes (after 'end' if any).
      res.on('close', () => finish(new Error(`watch ${path}: connection closed mid-stream`)));
    });
    req.on('error', (e) => finish(new Error(`watch ${path}: ${e.message}`)));
    if (idleTimeoutMs !== undefined)
      req.setTimeout(idleTimeoutMs, () => finish(new Error(`watch ${path}: no data for ${idleTimeoutMs} ms`)));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * One watch until `done` returns true for an event (BOOKMARKs included). Rejects when the watch
 * is refused, carries an ERROR event or ends first, or after `timeoutMs` (`… timeout after N ms`).
 */
export async function watchUntil(
  kube: KubeClient,
  path: string,
  query: Query,
  done: (e: WatchEvent) => boolean,
  timeoutMs: number,
): Promise<void> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), timeoutMs);
  let met = false;
  try {
    await watchStream(kube, path, (e) => (met = done(e)), { query, signal: deadline.signal });
  } finally {
    clearTimeout(timer);
  }
  if (met) return;
  throw new Error(deadline.signal.aborted ? `watch ${path}: timeout after ${timeoutMs} ms` : `watch ${path}: stream ended early`);
}

export interface ListWatchOptions {
  /** Collection path, e.g. `/apis/cluster.k8s.io/v1alpha1/machines`. */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Aborting stops the loop (an open watch at once, a LIST in flight when it answers). */
  signal: AbortSignal;
  /** Every ADDED/MODIFIED/DELETED watch event, in order. A throw is logged; the watch goes on. */
  onEvent: (type: ChangeType, object: any) => void;
  /**
   * The items of every (re)list, all pages: a level-based informer replaces its cache with them.
   * Without it a LIST only yields the resourceVersion to watch from and its items are dropped,
   * as the ApiServerSource adapter does (nothing is emitted for objects that already exist).
   */
  onList?: (items: any[]) => void;
  /**
   * After a failed watch (anything but 410 Gone, which always relists): relist (true, an
   * informer that re-reads the state) or watch again from the last resourceVersion seen (false,
   * the default, the adapter's reflector: nothing between is lost).
   */
  relistOnError?: boolean;
  /** Server-side timeoutSeconds of one watch; default 300–600 at random per watch, as client-go picks. */
  watchTimeoutSeconds?: number;
  /** Delay before retrying after a failure, doubling up to maxMs; default 0.8 s → 30 s. */
  backoff?: { initialMs: number; maxMs: number };
  /** A failure and the delay before the retry; default: logged as `watch <path>: <message>; retrying in <ms> ms`. */
  onError?: (message: string, retryInMs: number) => void;
  log?: (line: string) => void;
}

export interface ListWatchStats {
  lists: number;
  watches: number;
  relistsAfterGone: number;
  errors: number;
  resourceVersion?: string;
}

/**
 * LIST (paged, 500 a page), then WATCH from its resourceVersion with bookmarks, kept alive like
 * client-go's Reflector until `signal` aborts:
 *
 * - a watch that ends (server timeoutSeconds, closed connection, no data for timeoutSeconds +
 *   30 s) resumes from the last resourceVersion seen, events and BOOKMARKs alike;
 * - 410 Gone (the resourceVersion left the watch window, as an HTTP status or an ERROR event)
 *   relists at once;
 * - errors (network, 5xx, 403, a missing CRD's 404, a watch that closes at once with nothing in
 *   it) are retried after a backoff, forever (the adapter's "resilient" mode): a LIST again, or
 *   a WATCH from the last resourceVersion (see `relistOnError`). The backoff restarts after a
 *   successful LIST or a watch that delivered events.
 *
 * `ready` resolves after the first successful LIST; `done` when the loop has stopped.
 */
export function listWatch(kube: KubeClient, opts: ListWatchOptions): { ready: Promise<void>; stats: ListWatchStats; done: Promise<void> } {
  const stats: ListWatchStats = { lists: 0, watches: 0, relistsAfterGone: 0, errors: 0 };
  const { initialMs, maxMs } = opts.backoff ?? { initialMs: 800, maxMs: 30_000 };
  const log = opts.log ?? (() => {});
  const onError = opts.onError ?? ((message, delay) => log(`watch ${opts.path}: ${message}; retrying in ${delay} ms`));
  const selectors = { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector };
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));

  const done = (async () => {
    let rv: string | undefined;
    let delay = initialMs;
    const fail = async (message: string) => {
      stats.errors++;
      onError(message, delay);
      await sleep(delay, opts.signal);
      delay = Math.min(delay * 2, maxMs);
    };
    while (!opts.signal.aborted) {
      if (rv === undefined) {
        try {
          const listed = await list(kube, opts.path, selectors, opts.onList !== undefined);
          if (opts.signal.aborted) break;
          rv = listed.resourceVersion;
          stats.lists++;
          stats.resourceVersion = rv;
          delay = initialMs;
          opts.onList?.(listed.items);
          markReady();
        } catch (e) {
          if (!opts.signal.aborted) await fail(`list failed: ${(e as Error).message}`);
          continue;
        }
      }
      stats.watches++;
      const started = Date.now();
      const timeoutSeconds = opts.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
      const query = { ...selectors, allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds };
      let error: Error | undefined;
      let delivered = 0;
      try {
        delivered = await watchStream(
          kube,
          opts.path,
          (e) => {
            const seen: string | undefined = e.object?.metadata?.resourceVersion;
            if (seen) rv = stats.resourceVersion = seen;
            if (!isChange(e.type)) return;
            try {
              opts.onEvent(e.type, e.object);
            } catch (err) {
              log(`watch ${opts.path}: event handler failed: ${(err as Error).message}`);
            }
          },
          { query, signal: opts.signal, idleTimeoutMs: (timeoutSeconds + 30) * 1000 },
        );
      } catch (e) {
        error = e as Error;
      }
      if (opts.signal.aborted) break;
      if (error instanceof WatchStatusError && error.status === 410) {
        stats.relistsAfterGone++;
        log(
          `watch ${opts.path}: resourceVersion ${rv} is gone (410); relisting${opts.onList ? '' : ' — changes in between are not emitted, as with the ApiServerSource adapter'}`,
        );
        rv = undefined;
      } else if (error) {
        if (opts.relistOnError) rv = undefined;
        await fail(error.message);
      } else if (delivered > 0) {
        delay = initialMs;
      } else if (Date.now() - started < 1000) {
        // Closed at once with nothing in it: back off rather than spin on a server that hangs up.
        if (opts.relistOnError) rv = undefined;
        await fail('watch closed immediately');
      }
    }
  })();
  return { ready, stats, done };
}

/** A LIST, page by page: its resourceVersion, and its items when `keepItems`. */
async function list(
  kube: KubeClient,
  path: string,
  selectors: Query,
  keepItems: boolean,
): Promise<{ resourceVersion: string; items: any[] }> {
  const items: any[] = [];
  let cont: string | undefined;
  let rv: string | undefined;
  do {
    const page = await kube.request<{ items?: any[]; metadata?: { resourceVersion?: string; continue?: string } }>('GET', path, {
      query: { ...selectors, limit: 500, continue: cont },
    });
    rv ??= page.metadata?.resourceVersion;
    if (keepItems) items.push(...(page.items ?? []));
    cont = page.metadata?.continue || undefined;
  } while (cont);
  if (!rv) throw new Error(`LIST ${path} returned no resourceVersion`);
  return { resourceVersion: rv, items };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done);
  });
}
