/**
 * HTTP requests as the CDI importer's Go http.Client makes them: redirects followed (at most
 * 10; extra headers and basic auth re-applied on every hop, as CheckRedirect does), User-Agent
 * `cdi-golang-importer`, a 30 s dial timeout and no overall timeout.
 * Each request gets its own connection (agent: false) so nothing stays open after an import.
 */
import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import { goUrlError } from './go-errors.js';

export interface FetchConfig {
  /** `Name: value` header lines (extraHeaders then secretExtraHeaders). */
  headerLines: string[];
  basicAuth?: { user: string; password: string };
  /** PEM bundle from certConfigMap; undefined → the system roots. */
  ca?: string;
  insecureSkipVerify: boolean;
  connectTimeoutMs: number;
  maxRedirects: number;
}

/** A request that never got an HTTP response: carries Go's `Get "<url>": …` text. */
export class TransportError extends Error {}

export interface Response {
  res: http.IncomingMessage;
  req: http.ClientRequest;
  url: URL;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function headersFor(cfg: FetchConfig): Record<string, string> {
  const h: Record<string, string> = {};
  for (const line of cfg.headerLines) {
    const i = line.indexOf(':');
    if (i <= 0) continue; // Go: SplitN(header, ":", 2) needs two parts
    h[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  h['user-agent'] = 'cdi-golang-importer';
  if (cfg.basicAuth) {
    h.authorization = `Basic ${Buffer.from(`${cfg.basicAuth.user}:${cfg.basicAuth.password}`).toString('base64')}`;
  }
  return h;
}

function sendOnce(method: string, url: URL, cfg: FetchConfig, signal: AbortSignal): Promise<Response> {
  return new Promise((resolve, reject) => {
    const tls = url.protocol === 'https:';
    const options: https.RequestOptions = { method, headers: headersFor(cfg), agent: false };
    if (tls) {
      options.rejectUnauthorized = !cfg.insecureSkipVerify;
      // CDI's createCertPool: the system roots plus the certConfigMap bundle.
      if (cfg.ca) options.ca = [...rootCertificates, cfg.ca];
    }
    const req = (tls ? https : http).request(url, options, (res) => resolve({ res, req, url }));
    let dialTimer: NodeJS.Timeout | undefined;
    req.on('socket', (socket) => {
      if (!socket.connecting) return;
      dialTimer = setTimeout(() => {
        req.destroy(Object.assign(new Error('connect timeout'), { code: 'CONNECT_TIMEOUT' }));
      }, cfg.connectTimeoutMs);
      socket.once('connect', () => clearTimeout(dialTimer));
    });
    req.on('close', () => clearTimeout(dialTimer));
    req.on('error', (e) => {
      clearTimeout(dialTimer);
      reject(signal.aborted ? abortErr() : new TransportError(goUrlError(method, url, e)));
    });
    const onAbort = (): void => void req.destroy(abortErr());
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('close', () => signal.removeEventListener('abort', onAbort));
    req.end();
  });
}

function abortErr(): Error {
  const e = new Error('aborted');
  e.name = 'AbortError';
  return e;
}

/** Sends `method` to `url`, following redirects; the final response is returned unread. */
export async function fetchFollowing(method: 'GET' | 'HEAD', url: URL, cfg: FetchConfig, signal: AbortSignal): Promise<Response> {
  let current = url;
  let verb: string = method;
  for (let hops = 0; ; hops++) {
    const r = await sendOnce(verb, current, cfg, signal);
    const code = r.res.statusCode ?? 0;
    const location = r.res.headers.location;
    if (!REDIRECTS.has(code) || !location) return r;
    r.res.resume();
    r.req.destroy();
    let next: URL;
    try {
      next = new URL(location, current);
    } catch {
      throw new TransportError(`${verb[0]}${verb.slice(1).toLowerCase()} "${current.href}": failed to parse Location header "${location}"`);
    }
    if (hops + 1 > cfg.maxRedirects) {
      throw new TransportError(`${verb[0]}${verb.slice(1).toLowerCase()} "${next.href}": stopped after ${cfg.maxRedirects} redirects`);
    }
    if (code === 301 || code === 302 || code === 303) verb = verb === 'HEAD' ? 'HEAD' : 'GET';
    current = next;
  }
}

/** Content-Length as Go's parseHTTPHeader reads it (0 when absent or invalid). */
export function contentLength(res: http.IncomingMessage): number {
  const v = res.headers['content-length'];
  const n = v === undefined ? NaN : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : 0;
}
