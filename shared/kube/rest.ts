/**
 * A small Kubernetes REST client over node:https with keep-alive.
 *
 * Why not @kubernetes/client-node here: see kubeconfig.ts (import cost). This client does only
 * what the functions need — JSON requests, server-side apply, merge/JSON patches — and counts
 * its requests so the benchmark can report API calls per Machine.
 */
import type http from 'node:http';
import type https from 'node:https';
import { readFileSync } from 'node:fs';
import type { Connection } from './kubeconfig.js';
import { FIELD_MANAGER } from '../constants.js';
import { nodeHttp, nodeHttps } from '../runtime/builtins.js';

/** A non-2xx answer from the API server, with the Status reason. Never carries credentials. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly method: string,
    readonly path: string,
  ) {
    super(`${method} ${path}: ${status} ${reason}: ${message}`);
  }
}

/** Network failure (connection refused, reset, TLS, timeout): always transient. */
export class NetworkError extends Error {
  constructor(readonly method: string, readonly path: string, cause: Error) {
    super(`${method} ${path}: ${cause.message}`);
  }
}

export type PatchType = 'apply' | 'merge' | 'json';
const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  apply: 'application/apply-patch+yaml',
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
};

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** Resolve with the body text instead of parsed JSON (e.g. /metrics). */
  raw?: boolean;
}

/** Receives one call per HTTP request; the benchmark counts with it. */
export type RequestObserver = (method: string, path: string, status: number) => void;

export class KubeClient {
  private readonly agent: https.Agent | http.Agent;
  private readonly mod: typeof https | typeof http;
  private readonly base: URL;
  observer?: RequestObserver;
  requestCount = 0;

  constructor(private readonly conn: Connection, readonly timeoutMs = 15_000) {
    this.base = new URL(conn.server);
    const tls = this.base.protocol === 'https:';
    this.mod = tls ? nodeHttps() : nodeHttp();
    this.agent = tls
      ? new (nodeHttps().Agent)({
          keepAlive: true,
          maxSockets: 64,
          ca: conn.ca,
          cert: conn.cert,
          key: conn.key,
          rejectUnauthorized: !conn.insecureSkipTLSVerify,
        })
      : new (nodeHttp().Agent)({ keepAlive: true, maxSockets: 64 });
  }

  /** The API server URL: tells whether two clients talk to the same cluster endpoint. */
  get server(): string {
    return this.conn.server;
  }

  get namespace(): string | undefined {
    return this.conn.namespace;
  }

  private authHeader(): string | undefined {
    const token = this.conn.tokenFile ? readFileSync(this.conn.tokenFile, 'utf8').trim() : this.conn.token;
    return token ? `Bearer ${token}` : undefined;
  }

  /**
   * Sends a request; resolves with the parsed JSON body of a 2xx, rejects with ApiError/NetworkError.
   *
   * A 429 carrying Retry-After is sent again after that many seconds, as client-go does: the
   * server did not process it (API Priority and Fairness, or a CRD's watch cache that is still
   * initializing: "storage is (re)initializing"), so this is safe for every verb. The waits
   * are bounded by `retryAfterBudgetMs` in all, after which the 429 surfaces as a transient error.
   */
  async request<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    let waited = 0;
    for (;;) {
      const answer = await this.send(method, path, opts);
      if (answer.ok) return answer.value as T;
      const wait = retryAfterMs(answer.error, answer.retryAfter);
      if (wait === undefined || waited + wait > this.retryAfterBudgetMs) throw answer.error;
      waited += wait;
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** Total time one request may spend waiting on Retry-After answers. */
  retryAfterBudgetMs = 5_000;

  private send(method: string, path: string, opts: RequestOptions): Promise<{ ok: true; value: unknown } | { ok: false; error: Error; retryAfter?: string }> {
    const url = new URL(this.base.pathname.replace(/\/$/, '') + path, this.base);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const headers: Record<string, string> = { accept: 'application/json' };
    const auth = this.authHeader();
    if (auth) headers.authorization = auth;
    if (payload) {
      headers['content-type'] = opts.contentType ?? 'application/json';
      headers['content-length'] = String(payload.length);
    }
    this.requestCount++;
    return new Promise((resolve) => {
      const fail = (error: Error, retryAfter?: string) => resolve({ ok: false, error, retryAfter });
      const req = this.mod.request(url, { method, headers, agent: this.agent, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => fail(new NetworkError(method, path, e)));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          this.observer?.(method, path, status);
          const text = Buffer.concat(chunks).toString('utf8');
          let body: any;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = undefined;
          }
          if (status >= 200 && status < 300) return resolve({ ok: true, value: opts.raw ? text : body });
          const reason = (body && typeof body.reason === 'string' && body.reason) || res.statusMessage || 'Error';
          const message = (body && typeof body.message === 'string' && body.message) || text.slice(0, 200);
          const retryAfter = res.headers['retry-after'];
          fail(new ApiError(status, reason, message, method, path), Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
        });
      });
      req.on('timeout', () => req.destroy(new Error(`timed out after ${this.timeoutMs} ms`)));
      req.on('error', (e) => fail(new NetworkError(method, path, e)));
      if (payload) req.write(payload);
      req.end();
    });
  }

  /** GET that maps 404 to undefined. */
  async get<T = any>(path: string): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', path);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return undefined;
      throw e;
    }
  }

  create<T = any>(collectionPath: string, body: unknown): Promise<T> {
    return this.request<T>('POST', collectionPath, { body, query: { fieldManager: FIELD_MANAGER } });
  }

  /** Server-side apply under our single field manager (force: we are the only writer of these fields). */
  apply<T = any>(path: string, body: unknown, query: RequestOptions['query'] = {}): Promise<T> {
    return this.request<T>('PATCH', path, {
      body,
      contentType: PATCH_CONTENT_TYPE.apply,
      query: { fieldManager: FIELD_MANAGER, force: true, ...query },
    });
  }

  patch<T = any>(path: string, type: Exclude<PatchType, 'apply'>, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, { body, contentType: PATCH_CONTENT_TYPE[type], query: { fieldManager: FIELD_MANAGER } });
  }

  /** DELETE that treats 404 as success; returns whether the object still existed. */
  async delete(path: string, propagationPolicy: 'Background' | 'Foreground' = 'Background', preconditionUid?: string): Promise<boolean> {
    const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy };
    if (preconditionUid) body.preconditions = { uid: preconditionUid };
    try {
      await this.request('DELETE', path, { body });
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return false;
      throw e;
    }
  }

  /** Closes idle keep-alive sockets (tests and CLI shutdown). */
  close(): void {
    this.agent.destroy();
  }
}

/** True for failures worth retrying: network, 408, 409 conflicts, 429, 5xx. */
export function isTransient(e: unknown): boolean {
  if (e instanceof NetworkError) return true;
  if (e instanceof ApiError) return e.status === 408 || e.status === 409 || e.status === 429 || e.status >= 500;
  return false;
}

/**
 * How long to wait before sending a request again: the Retry-After seconds of a 429
 * (delta-seconds only, as the API server sends them; 0 means "now", waited as 100 ms so a busy
 * server is not hammered), or undefined when the answer is not one to repeat.
 */
export function retryAfterMs(error: Error, retryAfter: string | undefined): number | undefined {
  if (!(error instanceof ApiError) || error.status !== 429 || retryAfter === undefined) return undefined;
  if (!/^\d+$/.test(retryAfter.trim())) return undefined;
  return Math.max(100, Number(retryAfter.trim()) * 1000);
}
