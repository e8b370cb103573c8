/**
 * Infra-cluster clients, cached per kubeconfig so a burst of Machines reuses connections.
 * Keyed by a hash: the kubeconfig text itself is never kept as a map key or logged.
 */
import { createHash } from 'node:crypto';
import { KubeClient } from '../kube/rest.js';
import { connectionFromKubeconfig, defaultConnection } from '../kube/kubeconfig.js';

const cache = new Map<string, KubeClient>();

/** Client for the spec's kubeconfig, or for this cluster (KUBECONFIG env / in-cluster) when none. */
export function infraClientFor(kubeconfig: string | undefined, env: NodeJS.ProcessEnv = process.env): KubeClient {
  const key = kubeconfig ? createHash('sha256').update(kubeconfig).digest('hex') : 'default';
  let c = cache.get(key);
  if (!c) {
    c = new KubeClient(kubeconfig ? connectionFromKubeconfig(kubeconfig) : defaultConnection(env));
    cache.set(key, c);
  }
  return c;
}

/** Closes every cached client (tests, shutdown). */
export function closeInfraClients(): void {
  for (const c of cache.values()) c.close();
  cache.clear();
}
