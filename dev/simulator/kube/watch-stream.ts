/**
 * One Kubernetes watch request (`?watch=1`), streamed as newline-delimited JSON events.
 *
 * The project's KubeClient buffers whole responses, so watching needs its own request. One call
 * = one HTTP stream: it resolves when the server ends the stream (timeoutSeconds) and rejects on
 * network errors, non-2xx answers or inactivity; the reflector decides what to do next.
 */
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { Connection } from '../../../shared/kube/kubeconfig.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
export interface WatchEvent {
  type: WatchEventType;
  object: any;
}

/** A non-2xx answer to the watch request itself, or an ERROR event (410 Gone → relist). */
export class WatchHttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export class StreamingWatcher {
  private readonly base: URL;
  private readonly agent: http.Agent | https.Agent;
  private readonly mod: typeof http | typeof https;

  constructor(private readonly conn: Connection) {
    this.base = new URL(conn.server);
    const tls = this.base.protocol === 'https:';
    this.mod = tls ? https : http;
    // keepAlive off: a watch socket is used once; nothing idles in a pool after stop().
    this.agent = tls
      ? new https.Agent({ keepAlive: false, ca: conn.ca, cert: conn.cert, key: conn.key, rejectUnauthorized: !conn.insecureSkipTLSVerify })
      : new http.Agent({ keepAlive: false });
  }

  watch(
    path: string,
    query: Record<string, string>,
    onEvent: (e: WatchEvent) => void,
    signal: AbortSignal,
    idleTimeoutMs: number,
  ): Promise<void> {
    const url = new URL(this.base.pathname.replace(/\/$/, '') + path, this.base);
    for (const [k, v] of Object.entries({ ...query, watch: '1' })) url.searchParams.set(k, v);
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = this.conn.tokenFile ? readFileSync(this.conn.tokenFile, 'utf8').trim() : this.conn.token;
    if (token) headers.authorization = `Bearer ${token}`;

    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) return resolve();
      let settled = false;
      const finish = (err?: Error): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        if (err && !signal.aborted) reject(err);
        else resolve();
      };
      const req = this.mod.request(url, { method: 'GET', headers, agent: this.agent }, (res) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => finish(new WatchHttpError(status, `watch ${path}: HTTP ${status}: ${text.slice(0, 200)}`)));
          res.on('error', (e) => finish(e));
          return;
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (!line) continue;
            let event: WatchEvent;
            try {
              event = JSON.parse(line) as WatchEvent;
            } catch {
              req.destroy(new Error(`watch ${path}: unparsable event`));
              return;
            }
            if (event.type === 'ERROR') {
              const code = Number(event.object?.code ?? 500);
              req.destroy(new WatchHttpError(code, `watch ${path}: ${event.object?.message ?? 'ERROR event'}`));
              return;
            }
            try {
              onEvent(event);
            } catch (e) {
              req.destroy(e instanceof Error ? e : new Error(String(e)));
              return;
            }
          }
        });
        res.on('end', () => finish());
        res.on('error', (e) => finish(e));
        res.on('aborted', () => finish(new Error(`watch ${path}: stream aborted`)));
      });
      // Inactivity (no bytes, not even a bookmark) means a stalled connection: drop it.
      req.setTimeout(idleTimeoutMs, () => req.destroy(new Error(`watch ${path}: no data for ${idleTimeoutMs} ms`)));
      req.on('error', (e) => finish(e));
      const onAbort = (): void => {
        req.destroy();
        finish();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
