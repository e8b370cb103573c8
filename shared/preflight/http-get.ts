/**
 * One pinned HTTP GET that reads at most `maxBytes` of the body: the probe's single hop.
 *
 * node:http(s) rather than fetch: fetch (undici) takes no per-request `lookup`, so it cannot be
 * pinned to the addresses the SSRF guard approved. A fresh agent per request (`agent: false`)
 * keeps the approval from leaking into a pooled socket for another request, and keeps Node's
 * opt-in environment proxy (NODE_USE_ENV_PROXY, set up on the global agent) out of the path,
 * which would otherwise connect to a proxy and make the address check meaningless.
 */
import type http from 'node:http';
import { nodeHttp, nodeHttps } from '../runtime/builtins.js';
import type { ApprovedTarget } from './ssrf.js';
import { pinnedLookup } from './ssrf.js';

/** What one hop produced. */
export type HopResult =
  /** A status line arrived; for 200/206 `body` holds up to maxBytes. */
  | {
      type: 'response';
      status: number;
      statusText: string;
      location?: string;
      body?: Buffer;
      size?: number;
      /** ETag / Last-Modified of a 200/206: what identifies the content (the golden image key). */
      etag?: string;
      lastModified?: string;
      /** Every response header (the registry digest lookup reads Docker-Content-Digest, WWW-Authenticate). */
      headers: http.IncomingHttpHeaders;
    }
  /** The connection failed or the deadline passed first. */
  | { type: 'failed'; error: Error; timedOut: boolean }
  /** The request could not even be built (an invalid header name or value). */
  | { type: 'invalid'; error: Error };

export interface HopOptions {
  headers: Record<string, string | string[]>;
  /** Milliseconds left for connect + headers + body. */
  timeoutMs: number;
  maxBytes: number;
  /** Default GET; HEAD for a registry manifest (its headers are the answer). */
  method?: 'GET' | 'HEAD';
  /**
   * https without certificate verification: only for a registry listed as insecure, as CDI's
   * importer treats CDIConfig `insecureRegistries` (containers/image `DockerInsecureSkipTLSVerify`).
   */
  skipTlsVerify?: boolean;
}

/** GETs (or HEADs) `target.url`, connecting only to `target.addresses`. Never rejects. */
export function getFirstBytes(target: ApprovedTarget, opts: HopOptions): Promise<HopResult> {
  return new Promise<HopResult>((resolve) => {
    let settled = false;
    let req: http.ClientRequest;
    const finish = (result: HopResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Enough bytes, or an error answer: close the socket rather than drain a disk image.
      req?.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => finish({ type: 'failed', error: new Error(`no complete answer within the preflight timeout`), timedOut: true }),
      Math.max(0, opts.timeoutMs),
    );
    const mod = target.url.protocol === 'https:' ? nodeHttps() : nodeHttp();
    try {
      req = mod.request(
        target.url,
        {
          method: opts.method ?? 'GET',
          headers: opts.headers,
          agent: false,
          lookup: pinnedLookup(target.host, target.addresses),
          ...(opts.skipTlsVerify ? { rejectUnauthorized: false } : {}),
        },
        (res) => onResponse(res, opts.maxBytes, finish),
      );
    } catch (e) {
      clearTimeout(timer);
      settled = true;
      resolve({ type: 'invalid', error: e as Error });
      return;
    }
    req.on('error', (error) => finish({ type: 'failed', error, timedOut: false }));
    req.end();
  });
}

function onResponse(res: http.IncomingMessage, maxBytes: number, finish: (r: HopResult) => void): void {
  const status = res.statusCode ?? 0;
  const statusText = res.statusMessage || nodeHttp().STATUS_CODES[status] || '';
  const location = typeof res.headers.location === 'string' ? res.headers.location : undefined;
  if (status !== 200 && status !== 206) {
    finish({ type: 'response', status, statusText, headers: res.headers, ...(location !== undefined ? { location } : {}) });
    return;
  }
  const size = totalSize(res, status);
  const etag = typeof res.headers.etag === 'string' ? res.headers.etag : undefined;
  const lastModified = typeof res.headers['last-modified'] === 'string' ? res.headers['last-modified'] : undefined;
  const chunks: Buffer[] = [];
  let have = 0;
  const done = (): void =>
    finish({
      type: 'response',
      status,
      statusText,
      headers: res.headers,
      body: Buffer.concat(chunks, have),
      ...(size !== undefined ? { size } : {}),
      ...(etag !== undefined ? { etag } : {}),
      ...(lastModified !== undefined ? { lastModified } : {}),
    });
  res.on('data', (chunk: Buffer) => {
    const take = Math.min(chunk.length, maxBytes - have);
    if (take > 0) {
      chunks.push(take === chunk.length ? chunk : chunk.subarray(0, take));
      have += take;
    }
    // A 200 ignores the Range header and streams the whole image: stop at the cap.
    if (have >= maxBytes) done();
  });
  res.on('end', done);
  // A body cut short (server closed mid-way) is a network failure, not a short file.
  res.on('error', (error) => finish({ type: 'failed', error, timedOut: false }));
  res.on('aborted', () => finish({ type: 'failed', error: new Error('the server closed the connection mid-answer'), timedOut: false }));
}

/** The whole file's length: `Content-Range: bytes 0-N/TOTAL` on 206, Content-Length on 200. */
function totalSize(res: http.IncomingMessage, status: number): number | undefined {
  if (status === 206) {
    const m = /\/(\d+)\s*$/.exec(res.headers['content-range'] ?? '');
    return m ? Number(m[1]) : undefined;
  }
  const len = res.headers['content-length'];
  return len !== undefined && /^\d+$/.test(len) ? Number(len) : undefined;
}
