/**
 * Test access to the shared control plane that test/run.ts starts for the integration suite,
 * through the project's own KubeClient.
 *
 * It refuses to run unless KMF_TEST_SERVER is set and equals the kubeconfig's server, so a
 * KUBECONFIG left pointing at a real cluster can never receive test namespaces.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connectionFromKubeconfig } from '../../../shared/kube/kubeconfig.js';
import { ApiError, KubeClient } from '../../../shared/kube/rest.js';

let cached: string | undefined;

/** The admin kubeconfig text from $KUBECONFIG (system:masters: bypasses RBAC). */
export function testKubeconfig(): string {
  if (cached) return cached;
  const expected = process.env.KMF_TEST_SERVER;
  const file = process.env.KUBECONFIG;
  if (!expected || !file) {
    throw new Error(
      'integration tests need the test control plane: run them with `npm test` (or set KUBECONFIG and KMF_TEST_SERVER from `npm run cluster -- start`)',
    );
  }
  const text = readFileSync(file, 'utf8');
  const server = connectionFromKubeconfig(text).server;
  if (server !== expected.replace(/\/+$/, ''))
    throw new Error(`KUBECONFIG points at ${server}, not the test control plane ${expected}; refusing`);
  cached = text;
  return text;
}

let admin: KubeClient | undefined;

/** The project's REST client with the admin credentials of the test control plane. */
export function adminKube(): KubeClient {
  admin ??= new KubeClient(connectionFromKubeconfig(testKubeconfig()));
  return admin;
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
  const kube = adminKube();
  const name = uniqueName(prefix);
  await kube.create('/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'kubevirt-machine-functions.io/test': 'true' } },
  });
  if (opts.waitForDefaultServiceAccount) {
    await eventually(
      `ServiceAccount ${name}/default`,
      async () => (await kube.get(`/api/v1/namespaces/${name}/serviceaccounts/default`)) !== undefined,
    );
  }
  return name;
}

/** The HTTP status of a failed API call, or undefined for anything else. */
export function statusCode(e: unknown): number | undefined {
  return e instanceof ApiError ? e.status : undefined;
}

/** What a failed API call says (for ApiError: method, path, status, reason and the Status message). */
export function statusMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Polls `check` until it returns true; throws with the last error after `timeoutMs`. */
export async function eventually(
  what: string,
  check: () => Promise<boolean>,
  { timeoutMs = 60_000, intervalMs = 200 } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    try {
      if (await check()) return;
      last = 'condition false';
    } catch (e) {
      last = statusMessage(e);
    }
    if (Date.now() > deadline) throw new Error(`${what}: not true after ${timeoutMs} ms (${last})`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
