/**
 * Fetches an image's first bytes the way CDI's importer would reach them, and classifies
 * what went wrong when it cannot: permanent (the Machine gets an error) or transient
 * (the event is retried).
 *
 * Every hop, the first and each redirect, goes through the SSRF guard and connects only to
 * the addresses it approved. One deadline covers the whole probe: DNS, every hop, the body.
 */
import { SNIFF_BYTES } from '../image/sniff.js';
import type { Cidr } from './cidr.js';
import { getFirstBytes, type HopResult } from './http-get.js';
import type { PermanentReason, TransientReason } from './reasons.js';
import { checkImageTarget, redactUrl, type Resolve, type TargetCheck } from './ssrf.js';

export interface ProbeOptions {
  /** Host name resolution (the system resolver in production, a table in tests). */
  resolve: Resolve;
  /** CIDRs that open parts of the refused ranges (see refused.ts). */
  allow: readonly Cidr[];
  /** CDI `extraHeaders`: `Name: value` lines; lines without a colon are skipped, as CDI does. */
  headers?: string[];
  /** CDI `secretRef` credentials (Secret keys `accessKeyId` / `secretKey`). */
  basicAuth?: { user: string; password: string };
  /** Deadline for the whole probe. Default 5000. */
  timeoutMs?: number;
  /** Bytes to read at most. Default SNIFF_BYTES. */
  maxBytes?: number;
  /** Redirects followed at most. Default 3. */
  maxRedirects?: number;
}

export type ProbeResult =
  | {
      kind: 'ok';
      /** The first min(maxBytes, file length) bytes. */
      bytes: Uint8Array;
      /** 206 (Range honoured) or 200 (read up to the cap, then the socket was closed). */
      status: number;
      /** The URL that answered, redacted for messages. */
      url: string;
      redirects: number;
      /** The whole file's length when the server said (Content-Range total or Content-Length). */
      size?: number;
      /** The answer's ETag and Last-Modified, when given. */
      etag?: string;
      lastModified?: string;
    }
  | { kind: 'permanent'; reason: PermanentReason; message: string; status?: number }
  | { kind: 'transient'; reason: TransientReason; message: string; status?: number };

export const DEFAULT_PROBE_TIMEOUT_MS = 5000;
export const DEFAULT_MAX_REDIRECTS = 3;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Dropped on a redirect to another host, as Go's net/http (CDI's client) does. */
const SENSITIVE = new Set(['authorization', 'www-authenticate', 'cookie', 'cookie2', 'proxy-authorization']);

/**
 * GETs the first `maxBytes` of `url` with `Range: bytes=0-<maxBytes-1>`, following up to
 * `maxRedirects` redirects, each re-checked by the SSRF guard. A 416 (some servers answer it
 * for a Range on an empty or unusual resource) is retried once without Range.
 */
export async function probeImage(url: string, opts: ProbeOptions): Promise<ProbeResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  // At least one byte: `Range: bytes=0--1` would be malformed.
  const maxBytes = Math.max(1, opts.maxBytes ?? SNIFF_BYTES);
  const maxRedirects = opts.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const deadline = Date.now() + timeoutMs;
  const origin = redactUrl(url);
  const base = baseHeaders(opts);
  let current: string | URL = url;
  let useRange = true;
  const where = (u: URL): string =>
    redactUrl(u) === origin ? `image URL ${origin}` : `image URL ${origin} (redirected to ${redactUrl(u)})`;

  for (let redirects = 0; ;) {
    const check = await beforeDeadline(checkImageTarget(current, opts.resolve, opts.allow), deadline);
    if (check === undefined) return timedOut(`image URL ${origin}`, timeoutMs);
    if (!check.ok) {
      const message = redirects > 0 ? `image URL ${origin} redirects to a target the preflight refuses: ${check.message}` : check.message;
      return check.permanent
        ? { kind: 'permanent', reason: check.reason as PermanentReason, message }
        : { kind: 'transient', reason: 'ImageUnreachable', message };
    }
    const target = check.url;
    const headers = { ...forHost(base, hostOf(url), target.hostname), ...(useRange ? { range: `bytes=0-${maxBytes - 1}` } : {}) };
    const hop = await getFirstBytes(check, { headers, timeoutMs: deadline - Date.now(), maxBytes });

    if (hop.type === 'invalid') {
      return {
        kind: 'permanent',
        reason: 'ImageRequestInvalid',
        message: `${where(target)}: the request cannot be sent: ${hop.error.message} (check extraHeaders)`,
      };
    }
    if (hop.type === 'failed') {
      return hop.timedOut
        ? timedOut(where(target), timeoutMs)
        : { kind: 'transient', reason: 'ImageUnreachable', message: `${where(target)} is unreachable: ${describeError(hop.error)}` };
    }
    if (REDIRECTS.has(hop.status)) {
      if (hop.location === undefined) return statusResult(hop, where(target), 'a redirect without a Location header');
      if (redirects >= maxRedirects) {
        return {
          kind: 'permanent',
          reason: 'ImageTooManyRedirects',
          status: hop.status,
          message: `${where(target)} redirects more than ${maxRedirects} times; point the Machine at the final URL`,
        };
      }
      try {
        current = new URL(hop.location, target);
      } catch {
        return statusResult(hop, where(target), `an invalid Location header`);
      }
      redirects++;
      continue;
    }
    if (hop.status === 416 && useRange) {
      useRange = false;
      continue;
    }
    if (hop.body) {
      return {
        kind: 'ok',
        bytes: new Uint8Array(hop.body),
        status: hop.status,
        url: redactUrl(target),
        redirects,
        ...(hop.size !== undefined ? { size: hop.size } : {}),
        ...(hop.etag !== undefined ? { etag: hop.etag } : {}),
        ...(hop.lastModified !== undefined ? { lastModified: hop.lastModified } : {}),
      };
    }
    return statusResult(hop, where(target));
  }
}

/** Maps a non-success status; the message names it as CDI's importer would see it. */
function statusResult(hop: Extract<HopResult, { type: 'response' }>, where: string, detail?: string): ProbeResult {
  const { status } = hop;
  const answered = `${where} answered ${status}${hop.statusText ? ` ${hop.statusText}` : ''}${detail ? ` (${detail})` : ''}`;
  if (status === 404 || status === 410) return { kind: 'permanent', reason: 'ImageNotFound', status, message: answered };
  if (status === 401 || status === 403) {
    return {
      kind: 'permanent',
      reason: 'ImageAccessDenied',
      status,
      message: `${answered}; check the credentials (dataVolumeSecretRef, extraHeaders)`,
    };
  }
  if (status >= 500 || status === 429 || status === 408)
    return { kind: 'transient', reason: 'ImageServerError', status, message: answered };
  if (status >= 400) return { kind: 'permanent', reason: 'ImageRequestRejected', status, message: answered };
  // CDI's importer accepts only 200: anything else fails the import on every retry.
  return { kind: 'permanent', reason: 'ImageUnexpectedStatus', status, message: `${answered}; CDI's importer expects 200` };
}

function timedOut(where: string, timeoutMs: number): ProbeResult {
  return { kind: 'transient', reason: 'ImageUnreachable', message: `${where} did not answer within ${timeoutMs} ms` };
}

/** `connect ECONNREFUSED 127.0.0.1:8080`-style text; TLS failures say so. */
function describeError(e: Error): string {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  if (/CERT|TLS|SSL/.test(code) || /certificate|TLS|SSL/i.test(e.message)) return `TLS error: ${e.message}`;
  return e.message || code || 'connection failed';
}

/** `Name: value` lines (+ basic auth) → a header object; repeated names keep every value. */
function baseHeaders(opts: ProbeOptions): Map<string, { name: string; values: string[] }> {
  // Keyed by lower-case name: node:http treats names case-insensitively, so `authorization`
  // from extraHeaders and basic auth's `Authorization` must merge, not overwrite each other.
  const out = new Map<string, { name: string; values: string[] }>();
  const add = (name: string, value: string): void => {
    const entry = out.get(name.toLowerCase()) ?? { name, values: [] };
    entry.values.push(value);
    out.set(name.toLowerCase(), entry);
  };
  for (const line of opts.headers ?? []) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    add(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  if (opts.basicAuth) {
    add('Authorization', `Basic ${Buffer.from(`${opts.basicAuth.user}:${opts.basicAuth.password}`).toString('base64')}`);
  }
  // Identify ourselves; a server log then tells the preflight from CDI's importer.
  if (!out.has('user-agent')) add('User-Agent', 'kubevirt-machine-functions-preflight');
  return out;
}

/** Headers for a hop to `host`: credentials only to the original host or its subdomains. */
function forHost(base: ReturnType<typeof baseHeaders>, originHost: string, host: string): Record<string, string | string[]> {
  const same = host === originHost || host.endsWith(`.${originHost}`);
  const out: Record<string, string | string[]> = {};
  for (const [lower, { name, values }] of base) {
    if (!same && SENSITIVE.has(lower)) continue;
    out[name] = values.length === 1 ? values[0]! : values;
  }
  return out;
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}

/** Resolves with the promise's value, or undefined once the deadline passes. */
export async function beforeDeadline(p: Promise<TargetCheck>, deadline: number): Promise<TargetCheck | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()))));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
