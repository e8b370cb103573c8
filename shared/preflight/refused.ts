/**
 * Where an image URL must not lead (SSRF protection) and the allow-list that opens parts of it.
 *
 * The machine function fetches the first bytes of every http image before CDI does. Without
 * this guard, anyone who can create a Machine could make the function (and its network
 * identity) request cloud metadata credentials or services bound to loopback.
 *
 * Allow-list semantics (env `IMAGE_PREFLIGHT_ALLOW_CIDRS`, comma-separated CIDRs or bare IPs):
 * an address in a refused range R is permitted only by an allow entry that contains the
 * address AND lies within R (its prefix is at least R's). So
 * - `127.0.0.0/8` permits loopback 127.x, and nothing else: 169.254.169.254 stays refused;
 * - `169.254.0.0/16` permits link-local hosts but NOT 169.254.169.254, which is also in the
 *   narrower metadata range 169.254.169.254/32 and needs its own entry;
 * - a catch-all such as `0.0.0.0/0` or `::/0` permits nothing: it lies within no refused
 *   range, so the guard cannot be switched off by accident.
 * Private ranges (10/8, 192.168/16, fc00::/7 …) are never refused: images are commonly served
 * from internal mirrors.
 */
import { cidrContains, cidrWithin, formatIp, parseCidr, parseIp, unmapIpv4, type Cidr, type IpAddress } from './cidr.js';

/** Why a range is refused; the message's remedy depends on it. */
export type RefusedKind = 'link-local' | 'loopback' | 'metadata' | 'unspecified';

export interface RefusedRange {
  readonly cidr: Cidr;
  readonly kind: RefusedKind;
  /** Human description for the error message. */
  readonly label: string;
}

function range(text: string, kind: RefusedKind, label: string): RefusedRange {
  return { cidr: parseCidr(text)!, kind, label };
}

/** The default refused ranges, narrowest-purpose first so messages name the metadata range. */
export const REFUSED_RANGES: readonly RefusedRange[] = [
  // GCP's metadata.google.internal, AWS, Azure IMDS, OpenStack and Oracle all answer here.
  range('169.254.169.254/32', 'metadata', 'cloud metadata endpoint'),
  range('fd00:ec2::254/128', 'metadata', 'AWS IPv6 metadata endpoint'),
  range('100.100.100.200/32', 'metadata', 'Alibaba Cloud metadata endpoint'),
  // Azure's WireServer hands the VM agent its goal state and certificates; no image lives there.
  range('168.63.129.16/32', 'metadata', 'Azure WireServer endpoint'),
  range('169.254.0.0/16', 'link-local', 'IPv4 link-local range'),
  range('fe80::/10', 'link-local', 'IPv6 link-local range'),
  range('127.0.0.0/8', 'loopback', 'IPv4 loopback range'),
  range('::1/128', 'loopback', 'IPv6 loopback address'),
  // Connecting to 0.0.0.0 or :: reaches the local host on Linux: loopback by another name.
  range('0.0.0.0/8', 'unspecified', 'IPv4 "this network" range (reaches the local host)'),
  range('::/128', 'unspecified', 'IPv6 unspecified address (reaches the local host)'),
];

/** The env variable holding the allow-list. */
export const ALLOW_CIDRS_ENV = 'IMAGE_PREFLIGHT_ALLOW_CIDRS';

/**
 * The allow-list of `npm start`'s embedded mode (used when the env variable is unset), so
 * images served on the local machine work. Loopback only, both families: `localhost`
 * resolves to ::1 as well as 127.0.0.1 and one refused address refuses the URL. Link-local
 * and metadata stay refused.
 */
export const EMBEDDED_ALLOW_CIDRS = '127.0.0.0/8,::1/128';

/** A configuration value that cannot be used; the message names the variable and the entry. */
export class PreflightConfigError extends Error {
  override name = 'PreflightConfigError';
}

/**
 * Parses a comma-separated list of CIDRs (a bare IP is one host). Empty entries are skipped.
 * @param source names the setting in the error message.
 * @throws PreflightConfigError on the first invalid entry.
 */
export function parseCidrList(text: string, source: string, opts: { allowBareIp?: boolean } = {}): Cidr[] {
  const out: Cidr[] = [];
  for (const entry of text.split(',')) {
    const trimmed = entry.trim();
    if (!trimmed) continue;
    const cidr = parseCidr(trimmed, opts);
    if (!cidr) {
      const example = opts.allowBareIp ? '127.0.0.0/8, fd00::/8 or 10.0.0.5' : '10.96.0.0/12 or fd00:10:96::/108';
      throw new PreflightConfigError(
        `${source}: "${trimmed}" is not a valid CIDR (expected e.g. ${example}; separate entries with commas)`,
      );
    }
    out.push(cidr);
  }
  return out;
}

/**
 * The allow-list from the environment. When `IMAGE_PREFLIGHT_ALLOW_CIDRS` is set (even to
 * an empty string, which refuses everything in {@link REFUSED_RANGES}) it replaces
 * `fallback`; otherwise `fallback` applies (`''` in a deployment,
 * {@link EMBEDDED_ALLOW_CIDRS} in `npm start`'s embedded mode).
 * @throws PreflightConfigError naming the variable and the invalid entry.
 */
export function allowListFromEnv(env: NodeJS.ProcessEnv, fallback = ''): Cidr[] {
  const value = env[ALLOW_CIDRS_ENV];
  const source = value === undefined && fallback ? `the default allow-list (${ALLOW_CIDRS_ENV} unset)` : ALLOW_CIDRS_ENV;
  return parseCidrList(value ?? fallback, source, { allowBareIp: true });
}

/** An address the guard refuses, with every range it falls in that no allow entry opens. */
export interface Refusal {
  /** The address as given (e.g. `::ffff:127.0.0.1`). */
  address: string;
  /** The IPv4 address it was judged as, when it embeds one (mapped or NAT64). */
  checkedAs?: string;
  ranges: RefusedRange[];
}

/**
 * Judges one address against {@link REFUSED_RANGES} and the allow-list.
 * Undefined → permitted. An unparsable address is refused (it cannot be judged).
 */
export function refusalFor(address: string, allow: readonly Cidr[]): Refusal | undefined {
  const ip = parseIp(address);
  if (!ip) return { address, ranges: [] };
  for (const candidate of candidates(ip)) {
    const ranges = REFUSED_RANGES.filter((r) => cidrContains(r.cidr, candidate) && !permits(allow, r, candidate));
    if (ranges.length > 0) {
      const checkedAs = candidate.family !== ip.family ? formatIp(candidate) : undefined;
      return { address, ...(checkedAs ? { checkedAs } : {}), ranges };
    }
  }
  return undefined;
}

function permits(allow: readonly Cidr[], r: RefusedRange, ip: IpAddress): boolean {
  return allow.some((a) => cidrContains(a, ip) && cidrWithin(a, r.cidr));
}

/** NAT64's well-known prefix 64:ff9b::/96 translates to the embedded IPv4 address. */
const NAT64 = parseCidr('64:ff9b::/96')!;

/**
 * The forms an address is judged in: itself (IPv4-mapped already counts as IPv4), plus the
 * embedded IPv4 of a NAT64 address, which a NAT64 gateway would connect to.
 */
function candidates(ip: IpAddress): IpAddress[] {
  const own = unmapIpv4(ip);
  if (own.family === 6 && cidrContains(NAT64, own)) return [own, { family: 4, value: own.value & 0xffffffffn }];
  return [own];
}
