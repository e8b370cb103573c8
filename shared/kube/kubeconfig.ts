/**
 * Connection settings from a kubeconfig or the in-cluster ServiceAccount.
 *
 * We parse kubeconfigs ourselves (with `yaml`) instead of loading @kubernetes/client-node in the
 * functions: client-node takes ~0.6 s to import, which would dominate every cold start, and the
 * functions only need a handful of REST calls. Supported credentials: client certificates, bearer
 * tokens and token files (the in-cluster projected token). Exec and auth-provider plugins are not.
 */
import { readFileSync } from 'node:fs';
import type { LookupFunction } from 'node:net';
import { parse as parseYaml } from 'yaml';

export interface Connection {
  /** API server base URL without trailing slash, e.g. `https://127.0.0.1:6443`. */
  server: string;
  ca?: string;
  cert?: string;
  key?: string;
  token?: string;
  /** Re-read on every request: projected ServiceAccount tokens rotate. */
  tokenFile?: string;
  insecureSkipTLSVerify?: boolean;
  /** Namespace of the current context, when it names one. */
  namespace?: string;
  /** Resolver for the server's host name, when the default one must not be used. */
  lookup?: LookupFunction;
  /**
   * Act as this user (and groups): Impersonate-User / Impersonate-Group headers, as kubeconfig's
   * `as` / `as-groups`. The credentials above must be allowed to impersonate them.
   */
  impersonate?: { user: string; groups?: string[] };
}

/** A kubeconfig we cannot use. The message never contains the kubeconfig itself. */
export class KubeconfigError extends Error {}

type Named<T> = { name: string } & T;
interface RawKubeconfig {
  clusters?: Named<{ cluster?: Record<string, unknown> }>[];
  users?: Named<{ user?: Record<string, unknown> }>[];
  contexts?: Named<{ context?: { cluster?: string; user?: string; namespace?: string } }>[];
  'current-context'?: string;
}

const b64 = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? Buffer.from(v, 'base64').toString('utf8') : undefined);
const readFile = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? readFileSync(v, 'utf8') : undefined);

/**
 * Parses kubeconfig text (YAML or JSON) and resolves its current context. `inlineOnly`: a
 * kubeconfig from a providerSpec, whose file references must never be read (they would send the
 * function's own files, its ServiceAccount token among them, to the spec's server).
 */
export function connectionFromKubeconfig(text: string, { inlineOnly = false } = {}): Connection {
  let raw: RawKubeconfig;
  try {
    raw = parseYaml(text) as RawKubeconfig;
  } catch {
    throw new KubeconfigError('kubeconfig is not valid YAML or JSON');
  }
  if (!raw || typeof raw !== 'object' || !Array.isArray(raw.clusters) || raw.clusters.length === 0) {
    throw new KubeconfigError('kubeconfig has no clusters');
  }
  const contexts = raw.contexts ?? [];
  const ctx = contexts.find((c) => c.name === raw['current-context']) ?? contexts[0];
  const cluster = (ctx ? raw.clusters.find((c) => c.name === ctx.context?.cluster) : raw.clusters[0])?.cluster;
  if (!cluster || typeof cluster.server !== 'string') {
    throw new KubeconfigError('kubeconfig context names no cluster with a server');
  }
  const user = (ctx && raw.users?.find((u) => u.name === ctx.context?.user)?.user) || {};
  if (user.exec || user['auth-provider']) {
    throw new KubeconfigError('kubeconfig exec and auth-provider credentials are not supported; use a token or client certificate');
  }
  const file = (v: unknown, field: string): string | undefined => {
    if (inlineOnly && v !== undefined && v !== '')
      throw new KubeconfigError(`a providerSpec kubeconfig may not reference files (${field})`);
    return readFile(v);
  };
  if (inlineOnly && typeof user.tokenFile === 'string')
    throw new KubeconfigError('a providerSpec kubeconfig may not reference files (tokenFile)');
  return {
    server: cluster.server.replace(/\/+$/, ''),
    ca: b64(cluster['certificate-authority-data']) ?? file(cluster['certificate-authority'], 'certificate-authority'),
    insecureSkipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
    cert: b64(user['client-certificate-data']) ?? file(user['client-certificate'], 'client-certificate'),
    key: b64(user['client-key-data']) ?? file(user['client-key'], 'client-key'),
    token: typeof user.token === 'string' ? user.token : undefined,
    tokenFile: typeof user.tokenFile === 'string' ? user.tokenFile : undefined,
    namespace: ctx?.context?.namespace,
  };
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The in-cluster connection, as client-go's rest.InClusterConfig builds it. */
export function inClusterConnection(saDir = SA_DIR): Connection {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new KubeconfigError('not running in a cluster (KUBERNETES_SERVICE_HOST/PORT unset) and no kubeconfig given');
  }
  const h = host.includes(':') ? `[${host}]` : host;
  let namespace: string | undefined;
  try {
    namespace = readFileSync(`${saDir}/namespace`, 'utf8').trim();
  } catch {
    namespace = undefined;
  }
  return { server: `https://${h}:${port}`, ca: readFileSync(`${saDir}/ca.crt`, 'utf8'), tokenFile: `${saDir}/token`, namespace };
}

/**
 * The connection for "this" cluster: `$KUBECONFIG` (first path) when set, else in-cluster.
 * Used for the Machines' cluster and as the infra cluster when a spec names no kubeconfig.
 */
export function defaultConnection(env: NodeJS.ProcessEnv = process.env): Connection {
  const path = env.KUBECONFIG?.split(':').find((p) => p !== '');
  if (path) return connectionFromKubeconfig(readFileSync(path, 'utf8'));
  return inClusterConnection();
}
