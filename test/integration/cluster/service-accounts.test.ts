/**
 * The ServiceAccount admission plugin is on (unlike envtest) and the controller-manager's
 * serviceaccount and serviceaccount-token controllers make it work as in a real cluster.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CoreV1Api, type V1Secret } from '@kubernetes/client-node';
import { eventually, freshNamespace, kubeConfig } from '../support/kube.js';

const core = () => kubeConfig().makeApiClient(CoreV1Api);

test('a Pod in a fresh namespace gets the default ServiceAccount and its token volume', async () => {
  const namespace = await freshNamespace('sa-pod', { waitForDefaultServiceAccount: true });
  const pod = await core().createNamespacedPod({
    namespace,
    body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'registry.invalid/none' }] } },
  });
  assert.is(pod.spec?.serviceAccountName, 'default');
  assert.ok(pod.spec?.volumes?.some((v) => v.name.startsWith('kube-api-access-')), 'projected token volume injected');
});

test('a legacy service-account-token Secret is filled in by the token controller', async () => {
  const namespace = await freshNamespace('sa-secret', { waitForDefaultServiceAccount: true });
  await core().createNamespacedSecret({
    namespace,
    body: {
      metadata: { name: 'default-token', annotations: { 'kubernetes.io/service-account.name': 'default' } },
      type: 'kubernetes.io/service-account-token',
    },
  });
  let secret: V1Secret | undefined;
  await eventually('token populated', async () => {
    secret = await core().readNamespacedSecret({ namespace, name: 'default-token' });
    return Boolean(secret.data?.token);
  }, { timeoutMs: 30_000 });
  assert.ok(secret?.data?.['ca.crt'], 'root CA published into the token Secret');
});

test.run();
