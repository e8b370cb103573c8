/**
 * Test-side access through the project's own REST client (admin credentials from $KUBECONFIG),
 * plus manifest application by server-side apply and ServiceAccount token kubeconfigs.
 */
import { parseAllDocuments, stringify } from 'yaml';
import { ApiError, type KubeClient } from '../../../shared/kube/rest.js';
import { adminKube, testKubeconfig } from './kube.js';
import { serviceAccountKubeconfig as tokenKubeconfig } from '../../../dev/stack/rbac.js';

export { adminKube };

const PLURALS: Record<string, string> = {
  Namespace: 'namespaces',
  ServiceAccount: 'serviceaccounts',
  Secret: 'secrets',
  ConfigMap: 'configmaps',
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  Role: 'roles',
  RoleBinding: 'rolebindings',
  StorageProfile: 'storageprofiles',
  StorageClass: 'storageclasses',
  Machine: 'machines',
  MachineSet: 'machinesets',
  MachineDeployment: 'machinedeployments',
  VirtualMachine: 'virtualmachines',
  VirtualMachineInstance: 'virtualmachineinstances',
  DataVolume: 'datavolumes',
};
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'StorageProfile', 'StorageClass']);

export function pathOf(obj: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): string {
  const plural = PLURALS[obj.kind];
  if (!plural) throw new Error(`test manifests: unknown kind ${obj.kind}`);
  const prefix = obj.apiVersion.includes('/') ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
  const ns = CLUSTER_SCOPED.has(obj.kind) ? '' : `/namespaces/${obj.metadata.namespace ?? 'default'}`;
  return `${prefix}${ns}/${plural}/${obj.metadata.name}`;
}

/** Server-side applies every document (as the test's own field manager). */
export async function applyManifests(text: string, opts: { namespace?: string; kube?: KubeClient } = {}): Promise<any[]> {
  const kube = opts.kube ?? adminKube();
  const out: any[] = [];
  for (const d of parseAllDocuments(text)) {
    const obj = d.toJS();
    if (!obj) continue;
    if (opts.namespace && !CLUSTER_SCOPED.has(obj.kind)) obj.metadata.namespace = opts.namespace;
    out.push(
      await kube.request('PATCH', pathOf(obj), {
        body: obj,
        contentType: 'application/apply-patch+yaml',
        query: { fieldManager: 'kmf-tests', force: true },
      }),
    );
  }
  return out;
}

export async function ensureNamespace(name: string): Promise<void> {
  await applyManifests(stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
}

/** A kubeconfig (YAML text) for ServiceAccount `ns/name` (created if missing), via the TokenRequest API. */
export async function serviceAccountKubeconfig(namespace: string, name: string): Promise<string> {
  const kube = adminKube();
  try {
    await kube.create(`/api/v1/namespaces/${namespace}/serviceaccounts`, { metadata: { name } });
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 409)) throw e;
  }
  return tokenKubeconfig(kube, testKubeconfig(), namespace, name);
}
