/**
 * ConfigVar resolution against the Machines' cluster (where machine-controller reads its
 * secretKeyRef / configMapKeyRef values), with machine-controller's error wording.
 *
 * Unlike machine-controller, which reads a reference in any namespace, a reference resolves only
 * in the Machine's own namespace and in the namespaces the deployment lists
 * (`CONFIGVAR_NAMESPACES`, comma-separated; `*` restores machine-controller's any-namespace
 * behaviour): otherwise anyone who may create a Machine could make the function read, and use
 * as credentials, any Secret of the cluster.
 */
import type { KubeClient } from '../kube/rest.js';
import { CONFIG_MAP, SECRET, objectPath } from '../kube/paths.js';
import type { ConfigVarResolver } from '../providerspec/configvar.js';

export const CONFIGVAR_NAMESPACES_ENV = 'CONFIGVAR_NAMESPACES';

/** Throws unless `namespace` may be read for a Machine in `machineNamespace`. */
export function checkReferenceNamespace(kind: string, namespace: string, machineNamespace: string, env: NodeJS.ProcessEnv): void {
  if (namespace === machineNamespace) return;
  const listed = (env[CONFIGVAR_NAMESPACES_ENV] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (listed.includes('*') || listed.includes(namespace)) return;
  throw new Error(
    `${kind} in namespace '${namespace}' is not allowed: references resolve only in the Machine's namespace ` +
      `'${machineNamespace}'${listed.length ? ` and in ${listed.join(', ')}` : ''} (${CONFIGVAR_NAMESPACES_ENV} lists more)`,
  );
}

export function clusterResolver(kube: KubeClient, machineNamespace: string, env: NodeJS.ProcessEnv = process.env): ConfigVarResolver {
  return {
    async secret(namespace, name, key) {
      checkReferenceNamespace(`secretKeyRef ${namespace}/${name}`, namespace, machineNamespace, env);
      let s: { data?: Record<string, string> } | undefined;
      try {
        s = await kube.get(objectPath(SECRET, namespace, name));
      } catch (e) {
        throw new Error(`error retrieving secret '${name}' from namespace '${namespace}': '${(e as Error).message}'`, { cause: e });
      }
      if (!s) throw new Error(`error retrieving secret '${name}' from namespace '${namespace}': 'secrets "${name}" not found'`);
      const v = s.data?.[key];
      if (v === undefined) throw new Error(`secret '${name}' in namespace '${namespace}' has no key '${key}'`);
      return Buffer.from(v, 'base64').toString('utf8');
    },
    async configMap(namespace, name, key) {
      checkReferenceNamespace(`configMapKeyRef ${namespace}/${name}`, namespace, machineNamespace, env);
      let c: { data?: Record<string, string> } | undefined;
      try {
        c = await kube.get(objectPath(CONFIG_MAP, namespace, name));
      } catch (e) {
        throw new Error(`error retrieving configmap '${name}' from namespace '${namespace}': '${(e as Error).message}'`, { cause: e });
      }
      if (!c) throw new Error(`error retrieving configmap '${name}' from namespace '${namespace}': 'configmaps "${name}" not found'`);
      const v = c.data?.[key];
      if (v === undefined) throw new Error(`configmap '${name}' in namespace '${namespace}' has no key '${key}'`);
      return v;
    },
    env: (name) => env[name],
  };
}
