/**
 * ConfigVar resolution against the Machines' cluster (where machine-controller reads its
 * secretKeyRef / configMapKeyRef values), with machine-controller's error wording.
 */
import type { KubeClient } from '../kube/rest.js';
import { CONFIG_MAP, SECRET, objectPath } from '../kube/paths.js';
import type { ConfigVarResolver } from '../providerspec/configvar.js';

export function clusterResolver(kube: KubeClient, env: NodeJS.ProcessEnv = process.env): ConfigVarResolver {
  return {
    async secret(namespace, name, key) {
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
