/**
 * Node network errors rendered as Go's net/http would word them, so the importer's termination
 * message reads like CDI's: `HTTP request errored: Get "<url>": dial tcp 127.0.0.1:9: connect:
 * connection refused`. The prefix up to `Get "<url>": ` is exact (pkg/importer/http-datasource.go,
 * net/url.Error); the tail is Go's wording for the common syscall errors and Node's otherwise.
 */
import { isIP } from 'node:net';

interface NodeNetError extends Error {
  code?: string;
  address?: string;
  port?: number;
  hostname?: string;
}

function hostPort(url: URL, e: NodeNetError): string {
  const host = e.address ?? url.hostname.replace(/^\[|\]$/g, '');
  const port = e.port ?? (url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80);
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Go's text for a transport error (the part after `Get "<url>": `). */
export function goTransportError(url: URL, err: unknown): string {
  const e = (err ?? {}) as NodeNetError;
  const code = e.code ?? '';
  switch (code) {
    case 'ECONNREFUSED':
      return `dial tcp ${hostPort(url, e)}: connect: connection refused`;
    case 'EHOSTUNREACH':
      return `dial tcp ${hostPort(url, e)}: connect: no route to host`;
    case 'ENETUNREACH':
      return `dial tcp ${hostPort(url, e)}: connect: network is unreachable`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `dial tcp: lookup ${e.hostname ?? url.hostname}: no such host`;
    case 'ETIMEDOUT':
    case 'CONNECT_TIMEOUT':
      return `dial tcp ${hostPort(url, e)}: i/o timeout`;
    case 'ECONNRESET':
      return 'read: connection reset by peer';
    case 'EPIPE':
      return 'write: broken pipe';
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
    case 'CERT_HAS_EXPIRED':
      return 'tls: failed to verify certificate: x509: certificate has expired or is not yet valid';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `tls: failed to verify certificate: x509: certificate is not valid for ${url.hostname}`;
    default:
      return e.message || String(err);
  }
}

/** `Get "<url>": <err>` — Go's *url.Error for a failed client.Do. */
export function goUrlError(method: string, url: URL, err: unknown): string {
  const verb = method[0]! + method.slice(1).toLowerCase();
  return `${verb} "${url.href}": ${goTransportError(url, err)}`;
}

/** Go's resp.Status: the status code and the server's reason phrase. */
export function goStatus(code: number, reasonPhrase: string | undefined, fallback: string | undefined): string {
  return `${code} ${reasonPhrase || fallback || ''}`.trimEnd();
}
