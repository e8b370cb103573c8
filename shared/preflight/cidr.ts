/**
 * IPv4 and IPv6 addresses and CIDR ranges as numbers: parsing, containment and overlap.
 *
 * Pure, no dependency but `node:net`'s `isIP` (which does the syntax validation, so the
 * parsers below only convert text already known to be well formed). Addresses are bigints
 * so both families share one code path.
 */
import { isIP } from 'node:net';

/** An IP address as a number. `family` decides the width: 32 or 128 bits. */
export interface IpAddress {
  readonly family: 4 | 6;
  readonly value: bigint;
}

/** A CIDR range; `base` has its host bits cleared and `text` is the canonical form. */
export interface Cidr {
  readonly family: 4 | 6;
  readonly base: bigint;
  readonly prefix: number;
  readonly text: string;
}

const BITS = { 4: 32, 6: 128 } as const;
/** `::ffff:0:0/96`: IPv4-mapped IPv6, which a dual-stack socket connects over IPv4. */
const MAPPED_PREFIX = 0xffffn;

/**
 * Parses an IPv4 or IPv6 address; `[…]` brackets (URL host form) and an IPv6 zone
 * (`fe80::1%eth0`) are accepted and dropped. Undefined when the text is not an address.
 * IPv4 must be dotted decimal: URL hosts such as `0x7f.1` are already normalised to it by
 * the WHATWG URL parser before they get here.
 */
export function parseIp(text: string): IpAddress | undefined {
  let s = text.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone >= 0 && s.includes(':')) s = s.slice(0, zone);
  switch (isIP(s)) {
    case 4:
      return { family: 4, value: ipv4Value(s) };
    case 6:
      return { family: 6, value: ipv6Value(s) };
    default:
      return undefined;
  }
}

/**
 * `::ffff:a.b.c.d` → `a.b.c.d`; any other address unchanged. Range checks run on the
 * result, so a mapped address is judged by the IPv4 ranges it actually reaches.
 */
export function unmapIpv4(ip: IpAddress): IpAddress {
  if (ip.family === 6 && ip.value >> 32n === MAPPED_PREFIX) return { family: 4, value: ip.value & 0xffffffffn };
  return ip;
}

/**
 * Parses `address/prefix`. Host bits are cleared (as Go's `net.ParseCIDR` does), an
 * IPv4-mapped IPv6 range of prefix ≥ 96 becomes the IPv4 range it denotes, and with
 * `allowBareIp` an address alone means a single host (/32 or /128).
 * Undefined when the text is not a CIDR.
 */
export function parseCidr(text: string, opts: { allowBareIp?: boolean } = {}): Cidr | undefined {
  const s = text.trim();
  const slash = s.indexOf('/');
  if (slash < 0 && !opts.allowBareIp) return undefined;
  const addrText = slash < 0 ? s : s.slice(0, slash);
  // A zone or brackets make no sense in a range; parseIp would accept them, so refuse here.
  if (/[%[\]]/.test(addrText)) return undefined;
  const ip = parseIp(addrText);
  if (!ip) return undefined;
  let prefix: number = BITS[ip.family];
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return undefined;
    prefix = Number(p);
    if (prefix > BITS[ip.family]) return undefined;
  }
  if (ip.family === 6 && prefix >= 96 && ip.value >> 32n === MAPPED_PREFIX) {
    return makeCidr(4, ip.value & 0xffffffffn, prefix - 96);
  }
  return makeCidr(ip.family, ip.value, prefix);
}

/** Builds a canonical Cidr from any address in it. */
export function makeCidr(family: 4 | 6, value: bigint, prefix: number): Cidr {
  const base = value & mask(family, prefix);
  return { family, base, prefix, text: `${formatIp({ family, value: base })}/${prefix}` };
}

/** Whether `ip` (an address or its text) lies in `cidr`; IPv4-mapped addresses count as IPv4. */
export function cidrContains(cidr: Cidr, ip: IpAddress | string): boolean {
  const parsed = typeof ip === 'string' ? parseIp(ip) : ip;
  if (!parsed) return false;
  const a = unmapIpv4(parsed);
  return a.family === cidr.family && (a.value & mask(a.family, cidr.prefix)) === cidr.base;
}

/** Whether two ranges share at least one address (never across families). */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  // Two aligned ranges overlap iff one contains the other: compare under the shorter prefix.
  const m = mask(a.family, Math.min(a.prefix, b.prefix));
  return (a.base & m) === (b.base & m);
}

/** Whether `inner` lies wholly within `outer`. */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  return inner.family === outer.family && inner.prefix >= outer.prefix && cidrsOverlap(inner, outer);
}

/** Canonical text: dotted decimal, or RFC 5952 IPv6 (lower case, longest zero run as `::`). */
export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((ip.value >> s) & 0xffn)).join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  // Longest run of ≥ 2 zero groups (first one on a tie) becomes '::'.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j > i ? j : i + 1;
  }
  const hex = (g: number[]): string => g.map((n) => n.toString(16)).join(':');
  if (best < 0) return hex(groups);
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

function mask(family: 4 | 6, prefix: number): bigint {
  const bits = BigInt(BITS[family]);
  const all = (1n << bits) - 1n;
  return (all >> BigInt(prefix)) ^ all;
}

function ipv4Value(s: string): bigint {
  return s.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

/** Text already validated by isIP: at most one `::`, an optional dotted IPv4 tail. */
function ipv6Value(text: string): bigint {
  let s = text;
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = ipv4Value(tail);
    s = `${s.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, rest] = s.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  let groups = left;
  if (rest !== undefined) {
    const right = rest ? rest.split(':') : [];
    groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  }
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}
