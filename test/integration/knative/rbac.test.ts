/**
 * knative/ RBAC as the real authorizer decides it: the single-cluster deployment's
 * ServiceAccounts, Roles and bindings are applied for real, and SubjectAccessReviews check that
 * every source and function identity may do what it needs and not more.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { adminKube, applyManifests } from '../support/admin.js';
import { eventually } from '../support/kube.js';
import { KNATIVE_DIR, NAMESPACE, kustomizeReach, loadManifests } from './manifests.js';
import { ensureNamespacesOf } from './dry-run-api.js';

const test = suite('knative/: RBAC, checked by SubjectAccessReview');
const { objects } = loadManifests();

type Access = [verb: string, group: string, resource: string, namespace: string];
const MACHINES = 'cluster.k8s.io';
const ANY_NS = 'some-user-namespace'; // cluster-wide grants hold in every namespace
const INFRA_NS = 'kube-system'; // the infra RoleBindings' namespace
const ALL = ''; // cluster-wide (a cluster-wide list/watch, as an adapter with namespaceSelector {} does)

const expand = (verbs: string[], group: string, resource: string, ns: string): Access[] => verbs.map((v) => [v, group, resource, ns]);

/**
 * The datavolume and vmi functions: read one infra resource in any infra namespace a Machine
 * may name, resolve a Machine's spec references where the machine function may, patch
 * Machines, record Events.
 */
const infraStatusReader = (sa: string, group: string, resource: string, denied: Access[]) => ({
  sa,
  allowed: [
    ...expand(['get', 'list', 'patch'], MACHINES, 'machines', ANY_NS),
    ['create', '', 'events', ANY_NS] as Access,
    ...expand(['get', 'list'], group, resource, INFRA_NS),
    ...expand(['get', 'list'], group, resource, ANY_NS),
    ['get', '', 'secrets', INFRA_NS] as Access,
  ],
  denied: [...denied, ['get', '', 'secrets', ANY_NS] as Access, ['list', '', 'secrets', INFRA_NS] as Access],
});

/**
 * What each identity must be able to do (the functions' needs; the sources' get/list/watch
 * as the ApiServerSource controller checks it) and spot checks of what it must not.
 */
const RBAC: { sa: string; allowed: Access[]; denied: Access[] }[] = [
  ...(
    [
      ['machines-source', MACHINES, 'machines'],
      ['machinesets-source', MACHINES, 'machinesets'],
      ['machinedeployments-source', MACHINES, 'machinedeployments'],
      ['datavolumes-source', 'cdi.kubevirt.io', 'datavolumes'],
      ['virtualmachineinstances-source', 'kubevirt.io', 'virtualmachineinstances'],
      ['nodes-source', '', 'nodes'],
    ] as const
  ).map(([sa, group, resource]) => ({
    sa,
    allowed: [...expand(['get', 'list', 'watch'], group, resource, ALL), ...expand(['get', 'list', 'watch'], group, resource, ANY_NS)],
    denied: [
      ...expand(['create', 'patch', 'delete'], group, resource, ANY_NS),
      ['list', '', 'secrets', ANY_NS] as Access,
      ['get', MACHINES, resource === 'machines' ? 'machinesets' : 'machines', ANY_NS] as Access,
      ...(resource === 'nodes' ? [['get', '', 'nodes/status', ALL] as Access, ['patch', '', 'nodes/status', ALL] as Access] : []),
    ],
  })),
  {
    sa: 'machine-function',
    allowed: [
      ...expand(['get', 'list', 'watch', 'patch', 'update'], MACHINES, 'machines', ANY_NS),
      ['get', MACHINES, 'machinesets', ANY_NS],
      // References resolve where a RoleBinding grants it: kube-system by default.
      ['get', '', 'configmaps', INFRA_NS],
      ['create', '', 'events', ANY_NS],
      ...expand(['get', 'list', 'create', 'patch', 'delete'], 'kubevirt.io', 'virtualmachines', INFRA_NS),
      // create: the golden image DataVolume (IMAGE_CACHE=on).
      ...expand(['get', 'list', 'create', 'delete'], 'cdi.kubevirt.io', 'datavolumes', INFRA_NS),
      // The datavolume/vmi functions read a Machine's VMI with the identity its spec carries.
      ['get', 'kubevirt.io', 'virtualmachineinstances', INFRA_NS],
      ...expand(['get', 'list', 'create', 'patch', 'delete'], '', 'secrets', INFRA_NS),
      ['get', 'cdi.kubevirt.io', 'storageprofiles', ALL],
      ['get', 'storage.k8s.io', 'storageclasses', ALL],
      // Deletion drains the Machine's Node (cordon, Eviction API) and deletes it after the VM.
      ...expand(['get', 'list', 'patch', 'delete'], '', 'nodes', ALL),
      ['list', '', 'pods', ALL],
      ['create', '', 'pods/eviction', ANY_NS],
      ['list', MACHINES, 'machines', ALL],
    ],
    denied: [
      ['delete', MACHINES, 'machines', ANY_NS],
      // Evictions only: PodDisruptionBudgets are honoured, no pod is deleted or changed directly.
      ['delete', '', 'pods', ANY_NS],
      ['patch', '', 'pods', ANY_NS],
      ['create', '', 'nodes', ALL],
      ['patch', '', 'nodes/status', ALL],
      ['create', 'kubevirt.io', 'virtualmachines', ANY_NS],
      // Goldens only where the VMs are; never changed once created (a new content is a new golden).
      ['create', 'cdi.kubevirt.io', 'datavolumes', ANY_NS],
      ['patch', 'cdi.kubevirt.io', 'datavolumes', INFRA_NS],
      ['list', '', 'secrets', ANY_NS],
      // No cluster-wide Secret or ConfigMap read.
      ['get', '', 'secrets', ANY_NS],
      ['get', '', 'configmaps', ANY_NS],
    ],
  },
  infraStatusReader('datavolume-function', 'cdi.kubevirt.io', 'datavolumes', [
    ['delete', MACHINES, 'machines', ANY_NS],
    ['delete', 'cdi.kubevirt.io', 'datavolumes', INFRA_NS],
    ['watch', 'cdi.kubevirt.io', 'datavolumes', ANY_NS],
  ]),
  infraStatusReader('vmi-function', 'kubevirt.io', 'virtualmachineinstances', [
    ['create', MACHINES, 'machines', ANY_NS],
    ['delete', 'kubevirt.io', 'virtualmachines', INFRA_NS],
    ['patch', 'kubevirt.io', 'virtualmachineinstances', ANY_NS],
  ]),
  {
    sa: 'machineset-function',
    allowed: [
      ...expand(['get', 'list', 'watch', 'create', 'delete', 'patch'], MACHINES, 'machines', ANY_NS),
      ...expand(['get', 'list', 'patch'], MACHINES, 'machinesets', ANY_NS),
      ...expand(['patch', 'update'], MACHINES, 'machinesets/status', ANY_NS),
      ['create', '', 'events', ANY_NS],
    ],
    denied: [
      ['patch', MACHINES, 'machinedeployments', ANY_NS],
      ['delete', MACHINES, 'machinesets', ANY_NS],
      ['get', '', 'nodes', ALL],
      ['get', '', 'secrets', ANY_NS],
    ],
  },
  {
    sa: 'machinedeployment-function',
    allowed: [
      ...expand(['get', 'list', 'patch'], MACHINES, 'machinedeployments', ANY_NS),
      ...expand(['patch', 'update'], MACHINES, 'machinedeployments/status', ANY_NS),
      ...expand(['get', 'list', 'create', 'patch', 'delete'], MACHINES, 'machinesets', ANY_NS),
      ...expand(['get', 'list'], MACHINES, 'machines', ANY_NS),
      ['create', '', 'events', ANY_NS],
    ],
    denied: [
      ['create', MACHINES, 'machines', ANY_NS],
      ['delete', MACHINES, 'machines', ANY_NS],
      ['delete', MACHINES, 'machinedeployments', ANY_NS],
    ],
  },
  {
    // functions/node: re-read and label Nodes, link their Machines (cluster-wide).
    sa: 'node-function',
    allowed: [
      ...expand(['get', 'list', 'patch'], '', 'nodes', ALL),
      ...expand(['get', 'list', 'patch'], MACHINES, 'machines', ANY_NS),
      ['list', MACHINES, 'machines', ALL],
      ['create', '', 'events', ANY_NS],
    ],
    denied: [
      // The kubelet registers Nodes and reports their status; deleting one is the machine function's.
      ['create', '', 'nodes', ALL],
      ['delete', '', 'nodes', ALL],
      ['patch', '', 'nodes/status', ALL],
      ['watch', '', 'nodes', ALL],
      ['create', MACHINES, 'machines', ANY_NS],
      ['delete', MACHINES, 'machines', ANY_NS],
      ['get', '', 'secrets', ANY_NS],
      ['create', '', 'pods/eviction', ANY_NS],
    ],
  },
  {
    // functions/resync lists cluster-wide (by label) and deletes orphaned VMs and DataVolumes;
    // its join timeout marks and deletes a Machine that never joined, with a Warning Event.
    sa: 'resync-function',
    allowed: [
      ['list', MACHINES, 'machines', ALL],
      ['get', MACHINES, 'machines', ANY_NS],
      ['list', MACHINES, 'machinesets', ALL],
      ['list', MACHINES, 'machinedeployments', ALL],
      ...expand(['patch', 'delete'], MACHINES, 'machines', ANY_NS),
      ['create', '', 'events', ANY_NS],
      ...expand(['list'], 'kubevirt.io', 'virtualmachines', ALL),
      ...expand(['list'], 'cdi.kubevirt.io', 'datavolumes', ALL),
      ['list', 'kubevirt.io', 'virtualmachineinstances', ALL],
      ...expand(['delete'], 'kubevirt.io', 'virtualmachines', ANY_NS),
      ...expand(['delete'], 'cdi.kubevirt.io', 'datavolumes', ANY_NS),
      // Golden images: annotations (last needed, cached) and their eviction (golden-gc.ts).
      ...expand(['patch'], 'cdi.kubevirt.io', 'datavolumes', ANY_NS),
    ],
    denied: [
      ['create', MACHINES, 'machines', ANY_NS],
      ['patch', MACHINES, 'machinesets', ANY_NS],
      ['patch', MACHINES, 'machinedeployments', ANY_NS],
      // An orphaned VM's userdata Secret goes with the VM (ownerReference): no Secret rights.
      ['get', '', 'secrets', ANY_NS],
      ['list', '', 'secrets', ALL],
      ['delete', '', 'secrets', ANY_NS],
      ['create', 'kubevirt.io', 'virtualmachines', ANY_NS],
      ['delete', 'kubevirt.io', 'virtualmachineinstances', ANY_NS],
    ],
  },
];

async function allowed(sa: string, [verb, group, resourcePath, namespace]: Access): Promise<boolean> {
  const [resource, subresource] = resourcePath.split('/');
  const review = await adminKube().request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: `system:serviceaccount:${NAMESPACE}:${sa}`,
        groups: ['system:serviceaccounts', `system:serviceaccounts:${NAMESPACE}`, 'system:authenticated'],
        resourceAttributes: { verb, group, resource, ...(subresource && { subresource }), ...(namespace && { namespace }) },
      },
    },
  });
  return review.status?.allowed === true;
}

test('RBAC: every source and function identity may do what it needs and not more (SubjectAccessReview)', async () => {
  // The RBAC objects of the single-cluster deployment, applied for real: the authorizer only
  // knows stored objects. Same names and rules the function tests apply; nothing else changes.
  const top = new Set(kustomizeReach(KNATIVE_DIR).files);
  const rbacKinds = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
  const rbacObjects = objects.filter((o) => top.has(o.file) && rbacKinds.has(o.obj.kind));
  await ensureNamespacesOf(rbacObjects);
  for (const d of rbacObjects) await applyManifests(stringify(d.obj));

  const listed = new Set(RBAC.map((r) => r.sa));
  const accounts = objects.filter((d) => top.has(d.file) && d.obj.kind === 'ServiceAccount').map((d) => d.obj.metadata.name);
  assert.equal(
    accounts.filter((a) => !listed.has(a)),
    [],
    'a ServiceAccount without expectations',
  );

  for (const { sa, allowed: yes, denied: no } of RBAC) {
    for (const access of yes) {
      // The authorizer reads RBAC through informers: a fresh grant takes a moment.
      await eventually(`${sa} may ${access.join(' ')}`, () => allowed(sa, access), { timeoutMs: 10_000, intervalMs: 100 });
    }
    for (const access of no) assert.not.ok(await allowed(sa, access), `${sa} must not ${access.join(' ')}`);
  }
});

test.run();
