/**
 * A small Kubernetes REST client over node:https with keep-alive.
 *
 * Why not @kubernetes/client-node here: see kubeconfig.ts (import cost). This client does only
 * what the functions need — JSON requests, server-side apply, merge/JSON patches — and counts
 * its requests so the benchmark can report API calls per Machine.
 */
import https from 'node:https';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import type { Connection } from './kubeconfig.js';
import { FIELD_MANAGER } from '../constants.js';

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
    this.mod = tls ? https : http;
    this.agent = tls
      ? new https.Agent({
          keepAlive: true,
          maxSockets: 64,
          ca: conn.ca,
          cert: conn.cert,
          key: conn.key,
          rejectUnauthorized: !conn.insecureSkipTLSVerify,
        })
      : new http.Agent({ keepAlive: true, maxSockets: 64 });
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

  /** Sends one request; resolves with the parsed JSON body of a 2xx, rejects with ApiError/NetworkError. */
  request<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
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
    return new Promise<T>((resolve, reject) => {
      const req = this.mod.request(url, { method, headers, agent: this.agent, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => reject(new NetworkError(method, path, e)));
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
          if (status >= 200 && status < 300) return resolve((opts.raw ? text : body) as T);
          const reason = (body && typeof body.reason === 'string' && body.reason) || res.statusMessage || 'Error';
          const message = (body && typeof body.message === 'string' && body.message) || text.slice(0, 200);
          reject(new ApiError(status, reason, message, method, path));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`timed out after ${this.timeoutMs} ms`)));
      req.on('error', (e) => reject(new NetworkError(method, path, e)));
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
