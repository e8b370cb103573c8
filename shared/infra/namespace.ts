/**
 * The infra namespace a Machine's objects live in. One rule for the machine function (which
 * creates them there) and the functions that observe them (which only believe an object is the
 * Machine's when it is where this rule puts it).
 */

/** The flat spec's `namespace`, else INFRA_NAMESPACE, POD_NAMESPACE, kube-system. */
export function infraNamespace(specNamespace: string | undefined, env: NodeJS.ProcessEnv): string {
  return specNamespace || env.INFRA_NAMESPACE || env.POD_NAMESPACE || 'kube-system';
}
