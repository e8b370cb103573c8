/**
 * RBAC is enforced for ServiceAccount tokens (TokenRequest API, service-account signing
 * keys): a missing permission is a 403 until a RoleBinding grants exactly it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectionFromKubeconfig } from '../../../shared/kube/kubeconfig.js';
import { collectionPath, VIRTUAL_MACHINE } from '../../../shared/kube/paths.js';
import { KubeClient } from '../../../shared/kube/rest.js';
import { serviceAccountKubeconfig } from '../support/admin.js';
import { adminKube, eventually, freshNamespace, statusCode, statusMessage } from '../support/kube.js';
import { nominalVm } from '../support/objects.js';

test('a ServiceAccount token lacking a permission gets 403, and succeeds after a RoleBinding grants it', async () => {
  const namespace = await freshNamespace('rbac');
  const asSa = new KubeClient(connectionFromKubeconfig(await serviceAccountKubeconfig(namespace, 'vm-reader')));
  try {
    const review = await asSa.create('/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
    });
    assert.is(review.status?.userInfo?.username, `system:serviceaccount:${namespace}:vm-reader`);

    const vms = collectionPath(VIRTUAL_MACHINE, namespace);
    try {
      await asSa.request('GET', vms);
      assert.unreachable('listed VMs without permission');
    } catch (e) {
      assert.is(statusCode(e), 403, statusMessage(e));
    }

    const admin = adminKube();
    await admin.create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/roles`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'vm-reader' },
      rules: [{ apiGroups: ['kubevirt.io'], resources: ['virtualmachines'], verbs: ['get', 'list', 'watch'] }],
    });
    await admin.create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'vm-reader' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'vm-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'vm-reader', namespace }],
    });
    // The RBAC authorizer reads through informers: a grant takes effect within moments.
    await eventually(
      'list allowed',
      async () => {
        const list = await asSa.request('GET', vms);
        return Array.isArray(list.items);
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );

    // Exactly what was granted: creating is still forbidden.
    try {
      await asSa.create(vms, nominalVm('vm', namespace));
      assert.unreachable('created a VM with a read-only grant');
    } catch (e) {
      assert.is(statusCode(e), 403, statusMessage(e));
    }
  } finally {
    asSa.close();
  }
});

test.run();
