/**
 * Infra-cluster clients, cached per kubeconfig so a burst of Machines reuses connections.
 * Keyed by a hash: the kubeconfig text itself is never kept as a map key or logged.
 */
import { createHash } from 'node:crypto';
import { KubeClient } from '../kube/rest.js';
import { connectionFromKubeconfig, defaultConnection } from '../kube/kubeconfig.js';
import { decodeBase64Lenient } from '../providerspec/kubeconfig.js';
import { allowListFromEnv } from '../preflight/refused.js';
import { systemResolve } from '../preflight/ssrf.js';
import { guardedLookup } from './server-guard.js';

const cache = new Map<string, KubeClient>();

/**
 * Client for the spec's kubeconfig, or for this cluster (KUBECONFIG env / in-cluster) when none.
 * A kubeconfig from the spec (anything but the operator's KUBEVIRT_KUBECONFIG) has its file
 * references refused and its server's addresses judged by the SSRF guard at every connection.
 */
export function infraClientFor(kubeconfig: string | undefined, env: NodeJS.ProcessEnv = process.env): KubeClient {
  const key = kubeconfig ? createHash('sha256').update(kubeconfig).digest('hex') : 'default';
  let c = cache.get(key);
  if (!c) {
    c = new KubeClient(kubeconfig ? specConnection(kubeconfig, env) : defaultConnection(env));
    cache.set(key, c);
  }
  return c;
}

/** The operator's infra kubeconfig (machine-controller's KUBEVIRT_KUBECONFIG), decoded; it may use files. */
export function operatorKubeconfig(env: NodeJS.ProcessEnv): string | undefined {
  return env.KUBEVIRT_KUBECONFIG ? decodeBase64Lenient(env.KUBEVIRT_KUBECONFIG) : undefined;
}

function specConnection(kubeconfig: string, env: NodeJS.ProcessEnv) {
  if (kubeconfig === operatorKubeconfig(env)) return connectionFromKubeconfig(kubeconfig);
  return { ...connectionFromKubeconfig(kubeconfig, { inlineOnly: true }), lookup: guardedLookup(allowListFromEnv(env), systemResolve) };
}

/** Closes every cached client (tests, shutdown). */
export function closeInfraClients(): void {
  for (const c of cache.values()) c.close();
  cache.clear();
}
