/**
 * kube-controller-manager's garbage collector and namespace controller really run:
 * ownerReferences cascade and namespaces finish deleting, which envtest cannot show.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { collectionPath, DATA_VOLUME, objectPath, VIRTUAL_MACHINE, type Kind } from '../../../shared/kube/paths.js';
import { adminKube, eventually, freshNamespace } from '../support/kube.js';
import { dataVolume, nominalVm } from '../support/objects.js';

const kube = () => adminKube();

/** Creates the nominal VM and a DataVolume it owns. */
async function vmWithOwnedDataVolume(namespace: string, name: string): Promise<void> {
  const vm = await kube().create(collectionPath(VIRTUAL_MACHINE, namespace), nominalVm(name, namespace));
  const owner = { apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', name, uid: vm.metadata.uid as string };
  await kube().create(collectionPath(DATA_VOLUME, namespace), dataVolume(`${name}-disk`, namespace, owner));
}

const gone = (kind: Kind, namespace: string, name: string) => async () =>
  (await kube().get(objectPath(kind, namespace, name))) === undefined;

test('a DataVolume with an ownerReference to a VM is garbage-collected after the VM is deleted', async () => {
  const namespace = await freshNamespace('gc');
  await vmWithOwnedDataVolume(namespace, 'vm');
  await kube().delete(objectPath(VIRTUAL_MACHINE, namespace, 'vm'));
  await eventually('DataVolume vm-disk collected', gone(DATA_VOLUME, namespace, 'vm-disk'));
});

test('foreground deletion keeps the VM (deletionTimestamp set) until its DataVolume is gone', async () => {
  const namespace = await freshNamespace('gc-fg');
  await vmWithOwnedDataVolume(namespace, 'vm');
  await kube().delete(objectPath(VIRTUAL_MACHINE, namespace, 'vm'), 'Foreground');
  const deleting = await kube()
    .get(objectPath(VIRTUAL_MACHINE, namespace, 'vm'))
    .catch(() => undefined);
  // The GC may already have finished on a fast machine; if not, the VM shows why it waits.
  if (deleting) {
    assert.ok(deleting.metadata.deletionTimestamp);
    assert.ok((deleting.metadata.finalizers as string[]).includes('foregroundDeletion'));
  }
  await eventually('DataVolume vm-disk collected', gone(DATA_VOLUME, namespace, 'vm-disk'));
  await eventually('VM vm removed', gone(VIRTUAL_MACHINE, namespace, 'vm'));
});

test('deleting a namespace removes its custom resources and finishes (namespace controller)', async () => {
  const namespace = await freshNamespace('ns-delete');
  await vmWithOwnedDataVolume(namespace, 'vm');
  await kube().delete(`/api/v1/namespaces/${namespace}`);
  await eventually(`namespace ${namespace} deleted`, async () => (await kube().get(`/api/v1/namespaces/${namespace}`)) === undefined);
});

test.run();
