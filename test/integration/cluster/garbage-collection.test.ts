/**
 * kube-controller-manager's garbage collector and namespace controller really run:
 * ownerReferences cascade and namespaces finish deleting, which envtest cannot show.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { eventually, freshNamespace, kubeConfig, statusCode } from '../support/kube.js';
import { dataVolume, DV_API, nominalVm, VM_API } from '../support/objects.js';

const custom = () => kubeConfig().makeApiClient(CustomObjectsApi);

/** Creates the nominal VM and a DataVolume it owns; returns the VM's uid. */
async function vmWithOwnedDataVolume(namespace: string, name: string): Promise<void> {
  const vm = await custom().createNamespacedCustomObject({ ...VM_API, namespace, body: nominalVm(name, namespace) });
  const owner = { apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', name, uid: vm.metadata.uid as string };
  await custom().createNamespacedCustomObject({ ...DV_API, namespace, body: dataVolume(`${name}-disk`, namespace, owner) });
}

const gone = (api: typeof DV_API | typeof VM_API, namespace: string, name: string) => async () => {
  try {
    await custom().getNamespacedCustomObject({ ...api, namespace, name });
    return false;
  } catch (e) {
    if (statusCode(e) === 404) return true;
    throw e;
  }
};

test('a DataVolume with an ownerReference to a VM is garbage-collected after the VM is deleted', async () => {
  const namespace = await freshNamespace('gc');
  await vmWithOwnedDataVolume(namespace, 'vm');
  await custom().deleteNamespacedCustomObject({ ...VM_API, namespace, name: 'vm' });
  await eventually('DataVolume vm-disk collected', gone(DV_API, namespace, 'vm-disk'));
});

test('foreground deletion keeps the VM (deletionTimestamp set) until its DataVolume is gone', async () => {
  const namespace = await freshNamespace('gc-fg');
  await vmWithOwnedDataVolume(namespace, 'vm');
  await custom().deleteNamespacedCustomObject({ ...VM_API, namespace, name: 'vm', propagationPolicy: 'Foreground' });
  const deleting = await custom().getNamespacedCustomObject({ ...VM_API, namespace, name: 'vm' }).catch(() => undefined);
  // The GC may already have finished on a fast machine; if not, the VM shows why it waits.
  if (deleting) {
    assert.ok(deleting.metadata.deletionTimestamp);
    assert.ok((deleting.metadata.finalizers as string[]).includes('foregroundDeletion'));
  }
  await eventually('DataVolume vm-disk collected', gone(DV_API, namespace, 'vm-disk'));
  await eventually('VM vm removed', gone(VM_API, namespace, 'vm'));
});

test('deleting a namespace removes its custom resources and finishes (namespace controller)', async () => {
  const namespace = await freshNamespace('ns-delete');
  await vmWithOwnedDataVolume(namespace, 'vm');
  const core = kubeConfig().makeApiClient(CoreV1Api);
  await core.deleteNamespace({ name: namespace });
  await eventually(`namespace ${namespace} deleted`, async () => {
    try {
      await core.readNamespace({ name: namespace });
      return false;
    } catch (e) {
      if (statusCode(e) === 404) return true;
      throw e;
    }
  });
});

test.run();
