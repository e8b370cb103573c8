/**
 * The two clusters a function may talk to. They are the same cluster in the simple
 * deployment; in a split one the DataVolume/VMI functions run where their ApiServerSource
 * watches (the infra cluster) and reach the Machines' cluster through MACHINES_KUBECONFIG.
 *
 *   MACHINES_KUBECONFIG  path of a kubeconfig for the Machines' cluster (else KUBECONFIG / in-cluster)
 *   INFRA_KUBECONFIG     path of a kubeconfig for the infra cluster   (else KUBECONFIG / in-cluster)
 */
import { readFileSync } from 'node:fs';
import { KubeClient } from './rest.js';
import { connectionFromKubeconfig, defaultConnection } from './kubeconfig.js';

function clientFrom(pathVar: string | undefined, env: NodeJS.ProcessEnv): KubeClient {
  return new KubeClient(pathVar ? connectionFromKubeconfig(readFileSync(pathVar, 'utf8')) : defaultConnection(env));
}

export const machinesClusterClient = (env: NodeJS.ProcessEnv = process.env): KubeClient => clientFrom(env.MACHINES_KUBECONFIG, env);
export const infraClusterClient = (env: NodeJS.ProcessEnv = process.env): KubeClient => clientFrom(env.INFRA_KUBECONFIG, env);
