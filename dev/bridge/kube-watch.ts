/**
 * List-then-watch of one collection, kept alive like client-go's Reflector (which the
 * ApiServerSource adapter runs), over node:http(s) streaming.
 *
 * - The first LIST only yields a resourceVersion: nothing is emitted for objects that already
 *   exist (the adapter's store ignores Replace), the WATCH starts from it.
 * - A watch that ends (server timeout, closed connection, client inactivity timeout)
 *   reconnects from the last resourceVersion seen (events and BOOKMARKs), so nothing is lost.
 * - 410 Gone (the resourceVersion left the watch window) relists. Like the adapter, changes
 *   that happened in between are NOT emitted: a relist only refreshes the resourceVersion.
 *   The resync function is what makes the system converge after such a gap.
 * - Errors (network, 5xx, 403, a missing CRD's 404) back off 0.8 s → 30 s and retry forever,
 *   the adapter's "resilient" mode. Never stops on its own, unlike client-node's informer.
 */
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { Connection } from '../../shared/kube/kubeconfig.js';
import { KubeClient } from '../../shared/kube/rest.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchOptions {
  conn: Connection;
  /** Collection path, e.g. `/apis/cluster.k8s.io/v1alpha1/machines`. */
  path: string;
  labelSelector?: string;
  onEvent: (type: WatchEventType, object: any) => void;
  log: (line: string) => void;
  signal: AbortSignal;
  /** Server-side timeoutSeconds of one watch request (client-go picks 5–10 min at random). */
  watchTimeoutSeconds?: number;
  backoff?: { initialMs: number; maxMs: number };
}

export interface WatchStats {
  lists: number;
  watches: number;
  relistsAfterGone: number;
  errors: number;
  resourceVersion?: string;
}

type WatchEnd = { kind: 'closed'; delivered: number } | { kind: 'gone' } | { kind: 'error'; message: string };

/** Starts the loop; `ready` resolves after the first successful LIST. */
export function startWatch(opts: WatchOptions): { ready: Promise<void>; stats: WatchStats; done: Promise<void> } {
  const stats: WatchStats = { lists: 0, watches: 0, relistsAfterGone: 0, errors: 0 };
  const lister = new KubeClient(opts.conn, 30_000);
  const { initialMs, maxMs } = opts.backoff ?? { initialMs: 800, maxMs: 30_000 };
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  const query = opts.labelSelector ? `&labelSelector=${encodeURIComponent(opts.labelSelector)}` : '';

  const done = (async () => {
    let rv: string | undefined;
    let delay = initialMs;
    const fail = async (message: string) => {
      stats.errors++;
      opts.log(`watch ${opts.path}: ${message}; retrying in ${delay} ms`);
      await sleep(delay, opts.signal);
      delay = Math.min(delay * 2, maxMs);
    };
    while (!opts.signal.aborted) {
      if (rv === undefined) {
        try {
          rv = await listResourceVersion(lister, opts.path, opts.labelSelector);
          stats.lists++;
          stats.resourceVersion = rv;
          delay = initialMs;
          markReady();
        } catch (e) {
          if (!opts.signal.aborted) await fail(`list failed: ${(e as Error).message}`);
          continue;
        }
      }
      stats.watches++;
      const started = Date.now();
      const timeout = opts.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
      const end = await watchOnce(opts, `${opts.path}?watch=1&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(rv)}&timeoutSeconds=${timeout}${query}`, timeout, (seen) => {
        rv = seen;
        stats.resourceVersion = seen;
      });
      if (opts.signal.aborted) break;
      if (end.kind === 'gone') {
        stats.relistsAfterGone++;
        opts.log(`watch ${opts.path}: resourceVersion ${rv} is gone (410); relisting — changes in between are not emitted, as with the ApiServerSource adapter`);
        rv = undefined;
      } else if (end.kind === 'error') {
        await fail(end.message);
      } else if (end.delivered > 0) {
        delay = initialMs;
      } else if (Date.now() - started < 1000) {
        // Closed at once with nothing in it: back off rather than spin on a server that hangs up.
        await fail('watch closed immediately');
      }
    }
  })();
  return { ready, stats, done };
}

/** LIST (paged) only for its resourceVersion; the items are deliberately dropped. */
async function listResourceVersion(kube: KubeClient, path: string, labelSelector?: string): Promise<string> {
  let cont: string | undefined;
  let rv: string | undefined;
  do {
    const page = await kube.request<{ metadata?: { resourceVersion?: string; continue?: string } }>('GET', path, { query: { labelSelector, limit: 500, continue: cont } });
    rv ??= page.metadata?.resourceVersion;
    cont = page.metadata?.continue || undefined;
  } while (cont);
  if (!rv) throw new Error(`LIST ${path} returned no resourceVersion`);
  return rv;
}

/** One WATCH request, streamed line by line until it ends. */
function watchOnce(opts: WatchOptions, pathAndQuery: string, timeoutSeconds: number, onResourceVersion: (rv: string) => void): Promise<WatchEnd> {
  const base = new URL(opts.conn.server);
  const url = new URL(base.pathname.replace(/\/$/, '') + pathAndQuery, base);
  const tls = url.protocol === 'https:';
  const token = opts.conn.tokenFile ? readFileSync(opts.conn.tokenFile, 'utf8').trim() : opts.conn.token;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const requestOptions: https.RequestOptions = {
    method: 'GET',
    headers,
    agent: false,
    ...(tls ? { ca: opts.conn.ca, cert: opts.conn.cert, key: opts.conn.key, rejectUnauthorized: !opts.conn.insecureSkipTLSVerify } : {}),
  };
  // Silence longer than the server's own timeout plus slack means a dead connection
  // (bookmarks arrive about once a minute on a healthy one).
  const inactivityMs = (timeoutSeconds + 30) * 1000;
  return new Promise<WatchEnd>((resolve) => {
    let settled = false;
    let delivered = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (end: WatchEnd) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      req.destroy();
      resolve(end);
    };
    const onAbort = () => finish({ kind: 'closed', delivered });
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish({ kind: 'error', message: `no data for ${inactivityMs} ms` }), inactivityMs);
    };
    const req = (tls ? https : http).request(url, requestOptions, (res) => {
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          finish(status === 410 ? { kind: 'gone' } : { kind: 'error', message: `watch answered HTTP ${status}: ${statusMessage(text)}` });
        });
        res.on('error', (e) => finish({ kind: 'error', message: e.message }));
        return;
      }
      arm();
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        arm();
        buffer += chunk;
        let nl: number;
        while (!settled && (nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (line === '') continue;
          let ev: { type?: string; object?: any };
          try {
            ev = JSON.parse(line);
          } catch {
            return finish({ kind: 'error', message: 'watch stream carried a line that is not JSON' });
          }
          const seen: string | undefined = ev.object?.metadata?.resourceVersion;
          if (ev.type === 'ERROR') {
            const code = ev.object?.code;
            return finish(code === 410 ? { kind: 'gone' } : { kind: 'error', message: `watch ERROR ${code}: ${ev.object?.message ?? ''}` });
          }
          if (seen) onResourceVersion(seen);
          if (ev.type === 'ADDED' || ev.type === 'MODIFIED' || ev.type === 'DELETED') {
            delivered++;
            try {
              opts.onEvent(ev.type, ev.object);
            } catch (e) {
              opts.log(`watch ${opts.path}: event handler failed: ${(e as Error).message}`);
            }
          }
        }
      });
      res.on('end', () => finish({ kind: 'closed', delivered }));
      res.on('error', (e) => finish({ kind: 'error', message: e.message }));
      // A connection cut mid-stream ends without 'end'; 'close' always comes (after 'end' if any).
      res.on('close', () => finish({ kind: 'error', message: 'connection closed mid-stream' }));
    });
    req.on('error', (e) => finish({ kind: 'error', message: e.message }));
    opts.signal.addEventListener('abort', onAbort);
    if (opts.signal.aborted) onAbort();
    req.end();
  });
}

function statusMessage(text: string): string {
  try {
    return String(JSON.parse(text).message ?? text).slice(0, 200);
  } catch {
    return text.slice(0, 200);
  }
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
