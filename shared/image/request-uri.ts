import { isIPv6 } from 'node:net';

/**
 * A port of Go's `net/url.ParseRequestURI` acceptance rules.
 *
 * machine-controller decides how to read an `osImage` with an empty or unknown `source`
 * by whether `url.ParseRequestURI(osImage)` succeeds, so "is this a URL?" must be answered
 * exactly as Go answers it, not as WHATWG `new URL()` does (which accepts `ns/dvname`
 * relative to nothing only with a base, lowercases hosts, percent-encodes, etc.).
 *
 * Only the accept/reject decision and the lowercased scheme are reproduced; the parsed
 * host, path and query are not needed by any caller. Ported from Go 1.26's
 * `net/url/url.go` (`parse` with viaRequest=true, `getScheme`, `parseAuthority`,
 * `parseHost`, `unescape`). Go 1.26 added strict colons in http(s) hosts and IPv6-literal
 * validation; older Go accepts a few more exotic hosts, never a different common one.
 */

/** Result of {@link parseRequestURI}: `ok: false` carries Go's error text. */
export type RequestURIResult = { ok: true; scheme: string } | { ok: false; error: string };

/** True when `raw` is accepted by Go's `url.ParseRequestURI`; the scheme is lowercased as Go does. */
export function parseRequestURI(raw: string): RequestURIResult {
  if (hasControlChar(raw)) return fail('net/url: invalid control character in URL');
  if (raw === '') return fail('empty url');
  if (raw === '*') return { ok: true, scheme: '' };

  const split = getScheme(raw);
  if ('error' in split) return fail(split.error);
  const scheme = split.scheme.toLowerCase();
  let rest = split.rest;

  // Go drops a lone trailing '?' (ForceQuery) and otherwise cuts the query off unvalidated.
  if (rest.endsWith('?') && countOf(rest, '?') === 1) {
    rest = rest.slice(0, -1);
  } else {
    const q = rest.indexOf('?');
    if (q >= 0) rest = rest.slice(0, q);
  }

  if (!rest.startsWith('/')) {
    // A scheme with a rootless remainder (`mailto:x`, `c:\x`) is an opaque URL: accepted.
    if (scheme !== '') return { ok: true, scheme };
    // This is the branch `ns/dvname` takes: not a request URI, so machine-controller
    // falls through to the PVC rule.
    return fail('invalid URI for request');
  }

  // Only with a scheme is `//…` an authority; for a request URI without one it is a path.
  if (scheme !== '' && rest.startsWith('//')) {
    let authority = rest.slice(2);
    const slash = authority.indexOf('/');
    rest = '';
    if (slash >= 0) {
      rest = authority.slice(slash);
      authority = authority.slice(0, slash);
    }
    const err = checkAuthority(scheme, authority);
    if (err) return fail(err);
  }

  const pathErr = checkEscapes(rest, 'path');
  if (pathErr) return fail(pathErr);
  return { ok: true, scheme };
}

function fail(error: string): RequestURIResult {
  return { ok: false, error };
}

function countOf(s: string, ch: string): number {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}

/** Go's `stringContainsCTLByte`: any byte < 0x20 or 0x7f (UTF-8 continuation bytes are ≥ 0x80). */
function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function isAlpha(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

function isHex(c: string | undefined): boolean {
  return c !== undefined && /^[0-9a-fA-F]$/.test(c);
}

/** Go's `getScheme`: a leading `[A-Za-z][A-Za-z0-9+.-]*:`; any other character means "no scheme". */
function getScheme(raw: string): { scheme: string; rest: string } | { error: string } {
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (isAlpha(c)) continue;
    if (isDigit(c) || c === '+' || c === '-' || c === '.') {
      if (i === 0) return { scheme: '', rest: raw };
      continue;
    }
    if (c === ':') {
      if (i === 0) return { error: 'missing protocol scheme' };
      return { scheme: raw.slice(0, i), rest: raw.slice(i + 1) };
    }
    return { scheme: '', rest: raw };
  }
  return { scheme: '', rest: raw };
}

/** Go's `parseAuthority`: host checked first, then userinfo (before the last '@'). */
function checkAuthority(scheme: string, authority: string): string | undefined {
  const at = authority.lastIndexOf('@');
  const hostErr = checkHost(scheme, at < 0 ? authority : authority.slice(at + 1));
  if (hostErr || at < 0) return hostErr;
  const userinfo = authority.slice(0, at);
  if (!validUserinfo(userinfo)) return 'net/url: invalid userinfo';
  // Go unescapes user and password separately; a valid %XX never contains ':', so checking
  // the whole userinfo at once accepts and rejects exactly the same strings.
  return checkEscapes(userinfo, 'userinfo');
}

const USERINFO_EXTRA = new Set([...`-._:~!$&'()*+,;=%@`]);

function validUserinfo(s: string): boolean {
  for (const c of s) {
    if (isAlpha(c) || isDigit(c) || USERINFO_EXTRA.has(c)) continue;
    return false;
  }
  return true;
}

function validOptionalPort(port: string): boolean {
  if (port === '') return true;
  if (port[0] !== ':') return false;
  for (const c of port.slice(1)) if (!isDigit(c)) return false;
  return true;
}

/**
 * Go 1.26's `parseHost`: a bracketed IPv6 literal (optionally with `%25zone` and a port),
 * or a host with at most one `:port`. Extra colons are tolerated for schemes other than
 * http/https (Go keeps that for multi-host database URLs, go.dev/issue/75223).
 */
function checkHost(scheme: string, host: string): string | undefined {
  const open = host.lastIndexOf('[');
  if (open > 0) return 'invalid IP-literal';
  if (open === 0) return checkIpLiteral(host);
  const first = host.indexOf(':');
  if (first !== -1) {
    const last = host.lastIndexOf(':');
    const portStart = last !== first && (scheme === 'http' || scheme === 'https') ? first : last;
    const colonPort = host.slice(portStart);
    if (!validOptionalPort(colonPort)) return `invalid port ${JSON.stringify(colonPort)} after host`;
  }
  return checkEscapes(host, 'host');
}

/** `[v6addr]`, `[v6addr%25zone]`, each optionally followed by `:port`. IPv4 is refused. */
function checkIpLiteral(host: string): string | undefined {
  const close = host.lastIndexOf(']');
  if (close < 0) return "missing ']' in host";
  const colonPort = host.slice(close + 1);
  if (!validOptionalPort(colonPort)) return `invalid port ${JSON.stringify(colonPort)} after host`;
  const hostname = host.slice(1, close);
  const zone = hostname.indexOf('%25');
  const addr = zone >= 0 ? hostname.slice(0, zone) : hostname;
  const err = checkEscapes(addr, 'host') ?? (zone >= 0 ? checkEscapes(hostname.slice(zone), 'zone') : undefined);
  if (err) return err;
  // Go runs netip.ParseAddr on the unescaped text: an IPv6 address, and a zone (if any)
  // that is non-empty. Every %XX decodes to one byte, so "non-empty" is "anything after %25".
  // A %XX left in the address decodes to a non-ASCII byte (ASCII escapes were refused
  // above), which no IPv6 address contains; Node's isIPv6 would read it as a zone instead.
  if (addr.includes('%') || !isIPv6(addr)) return 'invalid host';
  if (zone >= 0 && hostname.length === zone + 3) return 'invalid host';
  return undefined;
}

type EscapeMode = 'path' | 'userinfo' | 'host' | 'zone';

/** ASCII characters allowed unescaped in a host or zone (Go's `shouldEscape` returning false). */
const HOST_SAFE = new Set([...`-_.~!$&'()*+,;=:[]<>"`]);

function hostCharAllowed(c: string): boolean {
  return isAlpha(c) || isDigit(c) || HOST_SAFE.has(c);
}

/** Go's `unescape` validation: well-formed `%XX`, plus the host/zone character rules. */
function checkEscapes(s: string, mode: EscapeMode): string | undefined {
  for (let i = 0; i < s.length;) {
    const c = s[i]!;
    if (c === '%') {
      if (i + 2 >= s.length || !isHex(s[i + 1]) || !isHex(s[i + 2])) {
        return `invalid URL escape ${JSON.stringify(s.slice(i, i + 3))}`;
      }
      const esc = s.slice(i, i + 3);
      // RFC 3986: in a host, %-encoding is only for non-ASCII bytes (and %25 for IPv6 zones).
      if (mode === 'host' && parseInt(s[i + 1]!, 16) < 8 && esc !== '%25') {
        return `invalid URL escape ${JSON.stringify(esc)}`;
      }
      if (mode === 'zone') {
        const v = String.fromCharCode(parseInt(esc.slice(1), 16));
        if (esc !== '%25' && v !== ' ' && !hostCharAllowed(v)) {
          return `invalid URL escape ${JSON.stringify(esc)}`;
        }
      }
      i += 3;
      continue;
    }
    if ((mode === 'host' || mode === 'zone') && c.charCodeAt(0) < 0x80 && !hostCharAllowed(c)) {
      return `invalid character ${JSON.stringify(c)} in host name`;
    }
    i++;
  }
  return undefined;
}
