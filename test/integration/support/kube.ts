/**
 * Test access to the shared control plane that test/run.ts starts for the integration suite.
 *
 * It refuses to run unless KMF_TEST_SERVER is set and equals the kubeconfig's server, so a
 * KUBECONFIG left pointing at a real cluster can never receive test namespaces.
 */
import { randomBytes } from 'node:crypto';
import {
  ApiException,
  CoreV1Api,
  KubeConfig,
} from '@kubernetes/client-node';
import { kubeRequest, type KubeResponse } from '../../../dev/cluster/kube-request.js';

let cached: KubeConfig | undefined;

/** The admin KubeConfig from $KUBECONFIG (system:masters: bypasses RBAC). */
export function kubeConfig(): KubeConfig {
  if (cached) return cached;
  const expected = process.env.KMF_TEST_SERVER;
  const file = process.env.KUBECONFIG;
  if (!expected || !file) {
    throw new Error('integration tests need the test control plane: run them with `npm test` (or set KUBECONFIG and KMF_TEST_SERVER from `npm run cluster -- start`)');
  }
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  const server = kc.getCurrentCluster()?.server;
  if (server !== expected) throw new Error(`KUBECONFIG points at ${server}, not the test control plane ${expected}; refusing`);
  cached = kc;
  return kc;
}

/** A lowercase DNS-label suffix, unique enough per test run. */
export function uniqueName(prefix: string): string {
  return `${prefix.toLowerCase().slice(0, 50)}-${randomBytes(4).toString('hex')}`;
}

/**
 * Creates a namespace of its own for one test. With `waitForDefaultServiceAccount`, waits
 * until the serviceaccount controller has created `default`, which Pods need
 * (the ServiceAccount admission plugin is enabled).
 */
export async function freshNamespace(prefix: string, opts: { waitForDefaultServiceAccount?: boolean } = {}): Promise<string> {
  const core = kubeConfig().makeApiClient(CoreV1Api);
  const name = uniqueName(prefix);
  await core.createNamespace({ body: { metadata: { name, labels: { 'kubevirt-machine-functions.io/test': 'true' } } } });
  if (opts.waitForDefaultServiceAccount) {
    await eventually(`ServiceAccount ${name}/default`, async () => {
      await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
      return true;
    });
  }
  return name;
}

/**
 * A KubeConfig authenticating as ServiceAccount `namespace/name` through a short-lived
 * TokenRequest token (created if missing), for RBAC tests.
 */
export async function serviceAccountKubeConfig(namespace: string, name: string, { expirationSeconds = 3600 } = {}): Promise<KubeConfig> {
  const admin = kubeConfig();
  const core = admin.makeApiClient(CoreV1Api);
  try {
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  } catch (e) {
    if (statusCode(e) !== 409) throw e;
  }
  const tr = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds } },
  });
  const token = tr.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error('admin kubeconfig has no current cluster');
  const user = `system:serviceaccount:${namespace}:${name}`;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: user, token }],
    contexts: [{ name: user, cluster: cluster.name, user, namespace }],
    currentContext: user,
  });
  return kc;
}

/** The HTTP status of a failed API call, or undefined for anything else. */
export function statusCode(e: unknown): number | undefined {
  return e instanceof ApiException ? e.code : undefined;
}

/** The Kubernetes Status message of a failed API call (ApiException.body is a JSON string). */
export function statusMessage(e: unknown): string {
  if (!(e instanceof ApiException)) return String(e);
  try {
    return String((JSON.parse(String(e.body)) as { message?: string }).message ?? e.body);
  } catch {
    return String(e.body);
  }
}

/** Polls `check` until it returns true; throws with the last error after `timeoutMs`. */
export async function eventually(what: string, check: () => Promise<boolean>, { timeoutMs = 60_000, intervalMs = 200 } = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      if (await check()) return;
      last = 'condition false';
    } catch (e) {
      last = statusCode(e) !== undefined ? `HTTP ${statusCode(e)}: ${statusMessage(e)}` : String(e);
    }
    if (Date.now() > deadline) throw new Error(`${what}: not true after ${timeoutMs} ms (${last})`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * A raw GET with the kubeconfig's credentials, for what the typed clients cannot ask for
 * (e.g. `Accept: application/json;as=Table…`, the server-side printing kubectl uses).
 */
export function rawGet(kc: KubeConfig, path: string, headers: Record<string, string> = {}): Promise<KubeResponse> {
  return kubeRequest(kc, 'GET', path, { headers });
}
