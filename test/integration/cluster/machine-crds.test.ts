/**
 * The project's own cluster.k8s.io CRDs (crds/cluster.k8s.io) behave like machine-controller's:
 * short names, subresources, finalizers, `kubectl scale` on a MachineDeployment, and the
 * printer columns `kubectl get machines` shows.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MACHINE_FINALIZER } from '../../../shared/constants.js';
import { collectionPath, MACHINE, MACHINE_DEPLOYMENT, objectPath } from '../../../shared/kube/paths.js';
import { adminKube, freshNamespace, statusCode } from '../support/kube.js';
import { machine, machineDeployment } from '../support/objects.js';

const kube = () => adminKube();

interface ApiResource {
  name: string;
  namespaced: boolean;
  shortNames?: string[];
}

test("short names and subresources match machine-controller's CRDs", async () => {
  const list = await kube().request<{ resources: ApiResource[] }>('GET', '/apis/cluster.k8s.io/v1alpha1');
  const byName = new Map(list.resources.map((r) => [r.name, r]));
  assert.equal(byName.get('machines')?.shortNames, ['ma']);
  assert.equal(byName.get('machinesets')?.shortNames, ['ms']);
  assert.equal(byName.get('machinedeployments')?.shortNames, ['md']);
  assert.equal([...byName.keys()].sort(), [
    'machinedeployments',
    'machinedeployments/scale',
    'machinedeployments/status',
    'machines',
    'machinesets',
    'machinesets/status',
  ]);
  assert.ok([...byName.values()].every((r) => r.namespaced));
});

test('a Machine with a finalizer stays, with deletionTimestamp set, until the finalizer is removed', async () => {
  const namespace = await freshNamespace('finalizer');
  const path = objectPath(MACHINE, namespace, 'm');
  await kube().create(collectionPath(MACHINE, namespace), machine('m', namespace, { finalizers: [MACHINE_FINALIZER] }));
  await kube().delete(path);

  const deleting = await kube().request('GET', path);
  assert.ok(deleting.metadata.deletionTimestamp, 'deletionTimestamp set');
  assert.equal(deleting.metadata.finalizers, [MACHINE_FINALIZER]);

  // A JSON patch with `test` fails instead of removing someone else's finalizer.
  await kube().patch(path, 'json', [
    { op: 'test', path: '/metadata/finalizers/0', value: MACHINE_FINALIZER },
    { op: 'remove', path: '/metadata/finalizers/0' },
  ]);
  try {
    await kube().request('GET', path);
    assert.unreachable('Machine still there after its last finalizer was removed');
  } catch (e) {
    assert.is(statusCode(e), 404);
  }
});

test('kubectl scale on a MachineDeployment goes through the scale subresource', async () => {
  const namespace = await freshNamespace('scale');
  const path = objectPath(MACHINE_DEPLOYMENT, namespace, 'md');
  await kube().create(collectionPath(MACHINE_DEPLOYMENT, namespace), machineDeployment('md', namespace, 1));

  // What `kubectl scale md/md --replicas=3` sends.
  await kube().patch(`${path}/scale`, 'merge', { spec: { replicas: 3 } });
  const md = await kube().request('GET', path);
  assert.is(md.spec.replicas, 3);

  await kube().patch(`${path}/status`, 'merge', { status: { replicas: 2 } });
  const scale = await kube().request('GET', `${path}/scale`);
  assert.is(scale.kind, 'Scale');
  assert.is(scale.spec.replicas, 3);
  assert.is(scale.status.replicas, 2);
});

test('kubectl get machines shows provider, OS, node, address and error reason', async () => {
  const namespace = await freshNamespace('columns');
  await kube().create(collectionPath(MACHINE, namespace), machine('m', namespace));
  // Machine has no status subresource (as machine-controller's): status is written on the object.
  await kube().patch(objectPath(MACHINE, namespace, 'm'), 'merge', {
    status: { nodeRef: { name: 'node-1' }, addresses: [{ type: 'InternalIP', address: '10.0.0.7' }], errorReason: 'InvalidConfiguration' },
  });

  const res = await kube().send('GET', collectionPath(MACHINE, namespace), { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
  assert.is(res.status, 200, res.text);
  const table = res.body as { columnDefinitions: { name: string; priority: number }[]; rows: { cells: unknown[] }[] };
  const wide = table.columnDefinitions.map((c) => c.name);
  const normal = table.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name);
  assert.equal(normal, ['Name', 'Provider', 'OS', 'Node', 'Address', 'Error', 'Age']);
  assert.ok(wide.includes('Kubelet') && wide.includes('Message'));
  const cells = table.rows[0]?.cells ?? [];
  assert.equal(cells.slice(0, 6), ['m', 'kubevirt', 'ubuntu', 'node-1', '10.0.0.7', 'InvalidConfiguration']);
});

test.run();
