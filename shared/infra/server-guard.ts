/**
 * The SSRF guard for the infra API server a providerSpec's kubeconfig names: the same refused
 * ranges and allow-list (`IMAGE_PREFLIGHT_ALLOW_CIDRS`) as image URLs. Without it, anyone who can
 * create a Machine could make the machine function send Kubernetes requests (with the
 * kubeconfig's credentials) to cloud metadata endpoints or services bound to loopback.
 *
 * Two layers: {@link checkInfraServer} judges the server before any request (a refusal is
 * permanent and reported on the Machine), and {@link guardedLookup} re-judges every address the
 * connection resolves, so a name that later rebinds to a refused address cannot be reached.
 */
import type { LookupAddress, LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import type { Cidr } from '../preflight/cidr.js';
import { ALLOW_CIDRS_ENV, refusalFor } from '../preflight/refused.js';
import { redactUrl, type Resolve } from '../preflight/ssrf.js';

export type ServerCheck = { ok: true } | { ok: false; permanent: boolean; message: string };

const bare = (host: string): string => (host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host);

/** Judges `server` (the kubeconfig cluster's URL); `field` names where it came from in messages. */
export async function checkInfraServer(server: string, field: string, resolve: Resolve, allow: readonly Cidr[]): Promise<ServerCheck> {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return { ok: false, permanent: true, message: `${field}: the cluster server is not a URL` };
  }
  const host = bare(url.hostname);
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = await resolve(host);
    } catch (e) {
      return {
        ok: false,
        permanent: false,
        message: `${field}: cannot resolve the infra API server host ${host}: ${(e as Error).message}`,
      };
    }
  }
  for (const address of addresses) {
    const r = refusalFor(address, allow);
    if (!r) continue;
    const ranges = r.ranges.map((x) => `${x.cidr.text} (${x.label})`).join(' and ') || 'no IP range (not an IP address)';
    return {
      ok: false,
      permanent: true,
      message:
        `${field}: the infra API server ${redactUrl(url)} ${isIP(host) ? 'is' : `resolves to`} ${address}, in ${ranges}; ` +
        `such targets are refused to prevent server-side request forgery. If intended, add the range to ${ALLOW_CIDRS_ENV}`,
    };
  }
  return { ok: true };
}

/**
 * A `lookup` for the infra client's agent: resolves as usual and fails the connection when any
 * address is refused (the same rule as {@link checkInfraServer}).
 */
export function guardedLookup(allow: readonly Cidr[], resolve: Resolve): LookupFunction {
  return (hostname: string, options: LookupOptions, callback) => {
    resolve(hostname).then(
      (all) => {
        const refused = all.find((a) => refusalFor(a, allow));
        const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : (options.family ?? 0);
        const usable: LookupAddress[] = all
          .map((address) => ({ address, family: isIP(address) }))
          .filter((e) => !family || e.family === family);
        if (refused || usable.length === 0) {
          const error = Object.assign(
            new Error(refused ? `${hostname} resolves to ${refused}, a refused address` : `no address for ${hostname}`),
            {
              code: 'ENOTFOUND',
            },
          );
          callback(error, options.all ? [] : '', undefined);
        } else if (options.all) callback(null, usable);
        else callback(null, usable[0]!.address, usable[0]!.family);
      },
      (e: NodeJS.ErrnoException) => callback(e, options.all ? [] : '', undefined),
    );
  };
}
