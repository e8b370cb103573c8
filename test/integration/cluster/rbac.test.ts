/**
 * RBAC is enforced for ServiceAccount tokens (TokenRequest API, service-account signing
 * keys): a missing permission is a 403 until a RoleBinding grants exactly it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AuthenticationV1Api, CustomObjectsApi, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { eventually, freshNamespace, kubeConfig, serviceAccountKubeConfig, statusCode, statusMessage } from '../support/kube.js';
import { nominalVm, VM_API } from '../support/objects.js';

test('a ServiceAccount token lacking a permission gets 403, and succeeds after a RoleBinding grants it', async () => {
  const namespace = await freshNamespace('rbac');
  const saKc = await serviceAccountKubeConfig(namespace, 'vm-reader');

  const review = await saKc.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
  assert.is(review.status?.userInfo?.username, `system:serviceaccount:${namespace}:vm-reader`);

  const asSa = saKc.makeApiClient(CustomObjectsApi);
  try {
    await asSa.listNamespacedCustomObject({ ...VM_API, namespace });
    assert.unreachable('listed VMs without permission');
  } catch (e) {
    assert.is(statusCode(e), 403, statusMessage(e));
  }

  const rbac = kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name: 'vm-reader' },
      rules: [{ apiGroups: ['kubevirt.io'], resources: ['virtualmachines'], verbs: ['get', 'list', 'watch'] }],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: 'vm-reader' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'vm-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'vm-reader', namespace }],
    },
  });
  // The RBAC authorizer reads through informers: a grant takes effect within moments.
  await eventually('list allowed', async () => {
    const list = await asSa.listNamespacedCustomObject({ ...VM_API, namespace });
    return Array.isArray(list.items);
  }, { timeoutMs: 10_000, intervalMs: 50 });

  // Exactly what was granted: creating is still forbidden.
  try {
    await asSa.createNamespacedCustomObject({ ...VM_API, namespace, body: nominalVm('vm', namespace) });
    assert.unreachable('created a VM with a read-only grant');
  } catch (e) {
    assert.is(statusCode(e), 403, statusMessage(e));
  }
});

test.run();
