/**
 * The ServiceAccount admission plugin is on (unlike envtest) and the controller-manager's
 * serviceaccount and serviceaccount-token controllers make it work as in a real cluster.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { adminKube, eventually, freshNamespace } from '../support/kube.js';

const kube = () => adminKube();

interface Secret {
  data?: Record<string, string>;
}

test('a Pod in a fresh namespace gets the default ServiceAccount and its token volume', async () => {
  const namespace = await freshNamespace('sa-pod', { waitForDefaultServiceAccount: true });
  const pod = await kube().create(`/api/v1/namespaces/${namespace}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: { containers: [{ name: 'c', image: 'registry.invalid/none' }] },
  });
  assert.is(pod.spec?.serviceAccountName, 'default');
  assert.ok(
    (pod.spec?.volumes as { name: string }[] | undefined)?.some((v) => v.name.startsWith('kube-api-access-')),
    'projected token volume injected',
  );
});

test('a legacy service-account-token Secret is filled in by the token controller', async () => {
  const namespace = await freshNamespace('sa-secret', { waitForDefaultServiceAccount: true });
  await kube().create(`/api/v1/namespaces/${namespace}/secrets`, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'default-token', annotations: { 'kubernetes.io/service-account.name': 'default' } },
    type: 'kubernetes.io/service-account-token',
  });
  let secret: Secret | undefined;
  await eventually(
    'token populated',
    async () => {
      secret = await kube().request<Secret>('GET', `/api/v1/namespaces/${namespace}/secrets/default-token`);
      return Boolean(secret.data?.token);
    },
    { timeoutMs: 30_000 },
  );
  assert.ok(secret?.data?.['ca.crt'], 'root CA published into the token Secret');
});

test.run();
