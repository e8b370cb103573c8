/**
 * The project's own cluster.k8s.io CRDs (crds/cluster.k8s.io) behave like machine-controller's:
 * short names, subresources, finalizers, `kubectl scale` on a MachineDeployment, and the
 * printer columns `kubectl get machines` shows.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { MACHINE_FINALIZER } from '../../../shared/constants.js';
import { freshNamespace, kubeConfig, rawGet, statusCode } from '../support/kube.js';
import { machine, MACHINE_API, machineDeployment, MD_API } from '../support/objects.js';

const api = () => kubeConfig().makeApiClient(CustomObjectsApi);
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

test('short names and subresources match machine-controller\'s CRDs', async () => {
  const list = await api().getAPIResources({ group: 'cluster.k8s.io', version: 'v1alpha1' });
  const byName = new Map(list.resources.map((r) => [r.name, r]));
  assert.equal(byName.get('machines')?.shortNames, ['ma']);
  assert.equal(byName.get('machinesets')?.shortNames, ['ms']);
  assert.equal(byName.get('machinedeployments')?.shortNames, ['md']);
  assert.equal([...byName.keys()].sort(), [
    'machinedeployments', 'machinedeployments/scale', 'machinedeployments/status',
    'machines', 'machinesets', 'machinesets/status',
  ]);
  assert.ok([...byName.values()].every((r) => r.namespaced));
});

test('a Machine with a finalizer stays, with deletionTimestamp set, until the finalizer is removed', async () => {
  const namespace = await freshNamespace('finalizer');
  await api().createNamespacedCustomObject({ ...MACHINE_API, namespace, body: machine('m', namespace, { finalizers: [MACHINE_FINALIZER] }) });
  await api().deleteNamespacedCustomObject({ ...MACHINE_API, namespace, name: 'm' });

  const deleting = await api().getNamespacedCustomObject({ ...MACHINE_API, namespace, name: 'm' });
  assert.ok(deleting.metadata.deletionTimestamp, 'deletionTimestamp set');
  assert.equal(deleting.metadata.finalizers, [MACHINE_FINALIZER]);

  // A JSON patch with `test` fails instead of removing someone else's finalizer.
  await api().patchNamespacedCustomObject({
    ...MACHINE_API, namespace, name: 'm',
    body: [
      { op: 'test', path: '/metadata/finalizers/0', value: MACHINE_FINALIZER },
      { op: 'remove', path: '/metadata/finalizers/0' },
    ],
  });
  try {
    await api().getNamespacedCustomObject({ ...MACHINE_API, namespace, name: 'm' });
    assert.unreachable('Machine still there after its last finalizer was removed');
  } catch (e) {
    assert.is(statusCode(e), 404);
  }
});

test('kubectl scale on a MachineDeployment goes through the scale subresource', async () => {
  const namespace = await freshNamespace('scale');
  await api().createNamespacedCustomObject({ ...MD_API, namespace, body: machineDeployment('md', namespace, 1) });

  // What `kubectl scale md/md --replicas=3` sends.
  await api().patchNamespacedCustomObjectScale({ ...MD_API, namespace, name: 'md', body: { spec: { replicas: 3 } } }, merge);
  const md = await api().getNamespacedCustomObject({ ...MD_API, namespace, name: 'md' });
  assert.is(md.spec.replicas, 3);

  await api().patchNamespacedCustomObjectStatus({ ...MD_API, namespace, name: 'md', body: { status: { replicas: 2 } } }, merge);
  const scale = await api().getNamespacedCustomObjectScale({ ...MD_API, namespace, name: 'md' });
  assert.is(scale.kind, 'Scale');
  assert.is(scale.spec.replicas, 3);
  assert.is(scale.status.replicas, 2);
});

test('kubectl get machines shows provider, OS, node, address and error reason', async () => {
  const namespace = await freshNamespace('columns');
  await api().createNamespacedCustomObject({ ...MACHINE_API, namespace, body: machine('m', namespace) });
  // Machine has no status subresource (as machine-controller's): status is written on the object.
  await api().patchNamespacedCustomObject({
    ...MACHINE_API, namespace, name: 'm',
    body: { status: { nodeRef: { name: 'node-1' }, addresses: [{ type: 'InternalIP', address: '10.0.0.7' }], errorReason: 'InvalidConfiguration' } },
  }, merge);

  const res = await rawGet(kubeConfig(), `/apis/cluster.k8s.io/v1alpha1/namespaces/${namespace}/machines`, {
    Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
  });
  assert.is(res.status, 200, res.body);
  const table = JSON.parse(res.body) as { columnDefinitions: { name: string; priority: number }[]; rows: { cells: unknown[] }[] };
  const wide = table.columnDefinitions.map((c) => c.name);
  const normal = table.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name);
  assert.equal(normal, ['Name', 'Provider', 'OS', 'Node', 'Address', 'Error', 'Age']);
  assert.ok(wide.includes('Kubelet') && wide.includes('Message'));
  const cells = table.rows[0]?.cells ?? [];
  assert.equal(cells.slice(0, 6), ['m', 'kubevirt', 'ubuntu', 'node-1', '10.0.0.7', 'InvalidConfiguration']);
});

test.run();
