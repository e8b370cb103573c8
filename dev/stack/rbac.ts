/**
 * The functions' identities from knative/: apply the RBAC documents (ServiceAccounts, Roles,
 * bindings) as a cluster would, and mint a token kubeconfig per function ServiceAccount, so the
 * local stack runs every function with exactly the rights it has when deployed.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, parse as parseYaml, stringify } from 'yaml';
import { ApiError, type KubeClient } from '../../shared/kube/rest.js';

const RBAC_KINDS: Record<string, { plural: string; clusterScoped: boolean }> = {
  Namespace: { plural: 'namespaces', clusterScoped: true },
  ServiceAccount: { plural: 'serviceaccounts', clusterScoped: false },
  ClusterRole: { plural: 'clusterroles', clusterScoped: true },
  ClusterRoleBinding: { plural: 'clusterrolebindings', clusterScoped: true },
  Role: { plural: 'roles', clusterScoped: false },
  RoleBinding: { plural: 'rolebindings', clusterScoped: false },
};

/** Every YAML text under `dir`, recursively (kustomization files excluded). */
export function readManifests(dir: string): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
    if (!/\.ya?ml$/.test(f) || path.basename(f).startsWith('kustomization')) continue;
    if (f.split(path.sep).includes('split')) continue; // the split overlays repeat the base
    if (f.split(path.sep).includes('optional')) continue; // applied by hand where they apply
    out.push(readFileSync(path.join(dir, f), 'utf8'));
  }
  return out;
}

export async function applyRbac(kube: KubeClient, manifests: string[]): Promise<number> {
  let n = 0;
  const docs = manifests.flatMap((t) => parseAllDocuments(t).map((d) => d.toJS())).filter((o) => o && RBAC_KINDS[o.kind]);
  // Namespaces first, then ServiceAccounts, then the rest.
  const order = (k: string) => (k === 'Namespace' ? 0 : k === 'ServiceAccount' ? 1 : 2);
  docs.sort((a, b) => order(a.kind) - order(b.kind));
  for (const o of docs) {
    const k = RBAC_KINDS[o.kind];
    const prefix = o.apiVersion.includes('/') ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
    const p = `${prefix}${k.clusterScoped ? '' : `/namespaces/${o.metadata.namespace}`}/${k.plural}/${o.metadata.name}`;
    await kube.request('PATCH', p, {
      body: o,
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: 'kubevirt-machine-functions-start', force: true },
    });
    n++;
  }
  return n;
}

/** A kubeconfig (YAML) for ServiceAccount namespace/name, from the TokenRequest API. */
export async function serviceAccountKubeconfig(
  kube: KubeClient,
  adminKubeconfig: string,
  namespace: string,
  name: string,
): Promise<string> {
  let tr: { status: { token: string } };
  try {
    tr = await kube.request('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 24 * 3600 } },
    });
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) throw new Error(`ServiceAccount ${namespace}/${name} is not in knative/`, { cause: e });
    throw e;
  }
  const admin = parseYaml(adminKubeconfig);
  const cluster = admin.clusters[0].cluster;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'local', cluster: { server: cluster.server, 'certificate-authority-data': cluster['certificate-authority-data'] } }],
    users: [{ name, user: { token: tr.status.token } }],
    contexts: [{ name, context: { cluster: 'local', user: name, namespace } }],
    'current-context': name,
  });
}
