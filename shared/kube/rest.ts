/**
 * A small Kubernetes REST client over node:https with keep-alive.
 *
 * Why not @kubernetes/client-node here: see kubeconfig.ts (import cost). This client does only
 * what the functions need — JSON requests, server-side apply, merge/JSON patches — and counts
 * its requests so the benchmark can report API calls per Machine.
 *
 * It is also the one Kubernetes client of dev/, cli/ and test/: send() for answers looked at
 * whatever their status, open() for streams (dev/kube/watch.ts builds watches on it). Keep it
 * lean all the same: every function loads it at cold start.
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
    /** The Status message the server sent. */
    readonly apiMessage: string,
    readonly method: string,
    readonly path: string,
  ) {
    super(`${method} ${path}: ${status} ${reason}: ${apiMessage}`);
  }
}

/** Network failure (connection refused, reset, TLS, timeout): always transient. */
export class NetworkError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    cause: Error,
  ) {
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
  /** Accept header (default `application/json`), e.g. `application/json;as=Table;v=v1;g=meta.k8s.io`. */
  accept?: string;
  /** Resolve with the body text instead of parsed JSON (e.g. /metrics). */
  raw?: boolean;
}

/** An answer as the server sent it, whatever its status (see KubeClient.send). */
export interface RawResponse {
  status: number;
  /** The status line's text, e.g. `Not Found`. */
  statusText: string;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** `text` parsed as JSON; undefined when empty or not JSON. */
  body: any;
}

/** Receives one call per HTTP request; the benchmark counts with it. */
export type RequestObserver = (method: string, path: string, status: number) => void;

export class KubeClient {
  private readonly agent: https.Agent | http.Agent;
  private readonly mod: typeof https | typeof http;
  private readonly base: URL;
  /** TLS settings again, for requests on a connection of their own (open()). */
  private readonly tls: https.RequestOptions;
  observer?: RequestObserver;
  requestCount = 0;

  constructor(
    private readonly conn: Connection,
    readonly timeoutMs = 15_000,
  ) {
    this.base = new URL(conn.server);
    const tls = this.base.protocol === 'https:';
    this.mod = tls ? nodeHttps() : nodeHttp();
    // conn.lookup: a guarded resolver (spec-supplied infra servers, shared/infra/server-guard.ts).
    const lookup = conn.lookup ? { lookup: conn.lookup } : {};
    this.tls = tls ? { ca: conn.ca, cert: conn.cert, key: conn.key, rejectUnauthorized: !conn.insecureSkipTLSVerify, ...lookup } : lookup;
    this.agent = tls
      ? new (nodeHttps().Agent)({
          keepAlive: true,
          maxSockets: 64,
          ca: conn.ca,
          cert: conn.cert,
          key: conn.key,
          rejectUnauthorized: !conn.insecureSkipTLSVerify,
          ...lookup,
        })
      : new (nodeHttp().Agent)({ keepAlive: true, maxSockets: 64, ...lookup });
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
      const res = await this.send(method, path, opts);
      if (res.status >= 200 && res.status < 300) return (opts.raw ? res.text : res.body) as T;
      const error = apiError(res, method, path);
      const retryAfter = res.headers['retry-after'];
      const wait = retryAfterMs(error, Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
      if (wait === undefined || waited + wait > this.retryAfterBudgetMs) throw error;
      waited += wait;
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** Total time one request may spend waiting on Retry-After answers. */
  retryAfterBudgetMs = 5_000;

  /** The request URL (the server's path prefix kept) and headers, credentials included. */
  private prepare(path: string, opts: RequestOptions, payload?: Buffer): { url: URL; headers: Record<string, string | string[]> } {
    const url = new URL(this.base.pathname.replace(/\/$/, '') + path, this.base);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string | string[]> = { accept: opts.accept ?? 'application/json' };
    const auth = this.authHeader();
    if (auth) headers.authorization = auth;
    const as = this.conn.impersonate;
    if (as) {
      headers['impersonate-user'] = as.user;
      if (as.groups?.length) headers['impersonate-group'] = as.groups;
    }
    if (payload) {
      headers['content-type'] = opts.contentType ?? 'application/json';
      headers['content-length'] = String(payload.length);
    }
    return { url, headers };
  }

  /**
   * Sends one request and resolves with the answer whatever its status: no ApiError, no
   * Retry-After repeat (request() does both). Rejects only with NetworkError. For callers that
   * look at a refusal itself (its status, body, Warning headers).
   */
  send(method: string, path: string, opts: RequestOptions = {}): Promise<RawResponse> {
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const { url, headers } = this.prepare(path, opts, payload);
    this.requestCount++;
    return new Promise((resolve, reject) => {
      const fail = (e: Error) => reject(new NetworkError(method, path, e));
      const req = this.mod.request(url, { method, headers, agent: this.agent, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
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
          resolve({ status, statusText: res.statusMessage ?? '', headers: res.headers, text, body });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`timed out after ${this.timeoutMs} ms`)));
      req.on('error', fail);
      if (payload) req.write(payload);
      req.end();
    });
  }

  /**
   * Sends a request whose answer the caller reads as it arrives (a watch stream) and returns
   * it: the caller listens for 'response' and 'error', and destroys it to stop. Same URL,
   * credentials and TLS as send(), but on a connection of its own (a watch holds one for
   * minutes: it must neither occupy the pool nor go back to it), with no timeout and not counted.
   */
  open(method: string, path: string, opts: Omit<RequestOptions, 'body' | 'raw'> = {}): http.ClientRequest {
    const { url, headers } = this.prepare(path, opts);
    const req = this.mod.request(url, { method, headers, agent: false, ...this.tls });
    req.end();
    return req;
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

  /**
   * POST under our field manager. `fieldValidation=Strict`: a field the schema does not know is
   * refused (400 naming it) instead of silently pruned, so a typo or a field of a newer API
   * version fails loudly here rather than as an object that never converges.
   */
  create<T = any>(collectionPath: string, body: unknown): Promise<T> {
    return this.request<T>('POST', collectionPath, { body, query: { fieldManager: FIELD_MANAGER, fieldValidation: 'Strict' } });
  }

  /**
   * Server-side apply under our single field manager (force: we are the only writer of these
   * fields), with `fieldValidation=Strict` as create(). (An apply naming a field a CRD's schema
   * does not declare is refused whatever fieldValidation says, but as a 500: see apiError.)
   */
  apply<T = any>(path: string, body: unknown, query: RequestOptions['query'] = {}): Promise<T> {
    return this.request<T>('PATCH', path, {
      body,
      contentType: PATCH_CONTENT_TYPE.apply,
      query: { fieldManager: FIELD_MANAGER, force: true, fieldValidation: 'Strict', ...query },
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

/**
 * The ApiError for a non-2xx answer. One correction: kube-apiserver answers a server-side apply
 * carrying a field the schema does not declare with a 500 "failed to create typed patch object
 * (…): .spec.x: field not declared in schema" (kubernetes/kubernetes#139253, whatever
 * fieldValidation says). That is a refused request, not a server failure: it surfaces as the 400
 * a create gets for the same field, so it is not retried as transient.
 */
function apiError(res: RawResponse, method: string, path: string): ApiError {
  const reason = (res.body && typeof res.body.reason === 'string' && res.body.reason) || res.statusText || 'Error';
  const message = (res.body && typeof res.body.message === 'string' && res.body.message) || res.text.slice(0, 200);
  if (res.status === 500 && message.startsWith('failed to create typed patch object')) {
    return new ApiError(400, 'BadRequest', `${message} (sent as HTTP 500: kubernetes/kubernetes#139253)`, method, path);
  }
  return new ApiError(res.status, reason, message, method, path);
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
