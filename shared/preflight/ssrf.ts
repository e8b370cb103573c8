/**
 * The SSRF guard for image URLs: resolve the host once, judge every address, and pin the
 * connection to exactly those addresses.
 *
 * Pinning matters because of DNS rebinding: a name that resolves to a public address when
 * checked and to 169.254.169.254 a moment later would pass a check-then-fetch guard. The
 * probe therefore connects through {@link pinnedLookup}, which answers only with the
 * addresses this module approved, and node:net never asks DNS again.
 */
import type { LookupAddress, LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import type { Cidr } from './cidr.js';
import { ALLOW_CIDRS_ENV, refusalFor, type Refusal } from './refused.js';
import type { PreflightReason } from './reasons.js';
import { nodeDns } from '../runtime/builtins.js';

/** Resolves a host name to its addresses (injected, so tests need no DNS). */
export type Resolve = (host: string) => Promise<string[]>;

/**
 * The system resolver, as node:http would use it (getaddrinfo: /etc/hosts, then DNS), all
 * addresses in the resolver's order.
 */
export const systemResolve: Resolve = async (host) =>
  (await nodeDns().lookup(host, { all: true, order: 'verbatim' })).map((a) => a.address);

/** A target the guard approved: connect to `addresses` only (see {@link pinnedLookup}). */
export interface ApprovedTarget {
  ok: true;
  url: URL;
  /** URL host without IPv6 brackets. */
  host: string;
  addresses: string[];
}

/** A refused or unusable target. */
export interface RejectedTarget {
  ok: false;
  permanent: boolean;
  reason: Extract<PreflightReason, 'ImageURLInvalid' | 'ImageTargetRefused' | 'ImageUnreachable'>;
  message: string;
}

export type TargetCheck = ApprovedTarget | RejectedTarget;

/**
 * Checks where an image URL leads. The scheme must be http or https; a literal IP host is
 * judged as is, a name is resolved with `resolve`; the URL is refused if ANY address is in
 * a refused range the allow-list does not open (the client could connect to any of them).
 * A DNS failure is transient: CDI retries it too, and the name may appear later.
 */
export async function checkImageTarget(url: string | URL, resolve: Resolve, allow: readonly Cidr[]): Promise<TargetCheck> {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return {
      ok: false,
      permanent: true,
      reason: 'ImageURLInvalid',
      message: `image URL ${JSON.stringify(redactUrl(String(url)))} is not a valid URL`,
    };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return {
      ok: false,
      permanent: true,
      reason: 'ImageURLInvalid',
      message: `image URL ${redactUrl(parsed)} has scheme ${parsed.protocol.slice(0, -1)}; an http image source must use http or https`,
    };
  }
  const host = bareHost(parsed.hostname);
  let addresses: string[];
  if (isIP(host)) {
    addresses = [host];
  } else {
    try {
      addresses = await resolve(host);
    } catch (e) {
      return unreachable(`cannot resolve the host ${host} of image URL ${redactUrl(parsed)}: ${(e as Error).message}`);
    }
    if (addresses.length === 0) return unreachable(`the host ${host} of image URL ${redactUrl(parsed)} resolves to no address`);
  }
  for (const address of addresses) {
    const refusal = refusalFor(address, allow);
    if (refusal) return { ok: false, permanent: true, reason: 'ImageTargetRefused', message: refusalMessage(parsed, host, refusal) };
  }
  return { ok: true, url: parsed, host, addresses };
}

function unreachable(message: string): RejectedTarget {
  return { ok: false, permanent: false, reason: 'ImageUnreachable', message };
}

function refusalMessage(url: URL, host: string, r: Refusal): string {
  const where = isIP(host)
    ? `image URL ${redactUrl(url)} targets ${r.address}`
    : `image URL ${redactUrl(url)}: host ${host} resolves to ${r.address}`;
  const as = r.checkedAs ? ` (IPv4 ${r.checkedAs})` : '';
  if (r.ranges.length === 0) return `${where}, which is not an IP address; refused`;
  const ranges = r.ranges.map((x) => `${x.cidr.text} (${x.label})`).join(' and ');
  const entry = r.ranges[0]!.cidr.text;
  return (
    `${where}${as}, which is in ${ranges}; the image preflight refuses such targets to prevent server-side request forgery. ` +
    `Serve the image from another address, or, if this target is intended, add ${entry} (or a narrower range inside it) ` +
    `to the comma-separated CIDR list in ${ALLOW_CIDRS_ENV}`
  );
}

/**
 * A `lookup` for node:http(s).request / node:net that answers `host` with the pre-checked
 * `addresses` only and never queries DNS. Handles both call styles node:net uses (`all: true`
 * with autoSelectFamily, single address otherwise) and honours a requested family. Any
 * other host name is an error, so a redirect cannot reuse a stale approval.
 */
export function pinnedLookup(host: string, addresses: readonly string[]): LookupFunction {
  const entries: LookupAddress[] = addresses.map((address) => ({ address: bareHost(address), family: isIP(bareHost(address)) }));
  return (hostname: string, options: LookupOptions, callback) => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : (options.family ?? 0);
    const usable = entries.filter((e) => family === 0 || e.family === family);
    let error: NodeJS.ErrnoException | undefined;
    if (bareHost(hostname).toLowerCase() !== host.toLowerCase()) {
      error = Object.assign(new Error(`preflight: ${hostname} was not checked (pinned to ${host})`), { code: 'ENOTFOUND' });
    } else if (usable.length === 0) {
      error = Object.assign(new Error(`preflight: no checked IPv${family} address for ${hostname}`), { code: 'ENOTFOUND' });
    }
    // Asynchronous like dns.lookup, so node:net's event order is the usual one.
    process.nextTick(() => {
      if (error) callback(error, options.all ? [] : '', undefined);
      else if (options.all) callback(null, usable);
      else callback(null, usable[0]!.address, usable[0]!.family);
    });
  };
}

/**
 * A URL for messages: user info dropped and the query replaced by `?…` (signed URLs carry
 * tokens there), since the message lands on the Machine where many can read it.
 */
export function redactUrl(url: string | URL): string {
  let u: URL;
  try {
    u = new URL(String(url));
  } catch {
    return String(url)
      .replace(/\/\/[^/@]*@/, '//')
      .replace(/\?.*$/, '?…');
  }
  u.username = '';
  u.password = '';
  const query = u.search ? '?…' : '';
  u.search = '';
  u.hash = '';
  return u.toString() + query;
}

/** Every URL in free text (an error message from CDI, KubeVirt or the API server) as {@link redactUrl} gives it. */
export function redactUrlsIn(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (u) => (/[@?]/.test(u) ? redactUrl(u) : u));
}

function bareHost(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
