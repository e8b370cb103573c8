/**
 * The infra cluster a Machine's spec names, judged before the first request to it: a kubeconfig
 * the client cannot use (exec plugin, a missing CA file of the operator's, a server that is not
 * a URL) or a server the SSRF guard refuses is a permanent fault. The machine function reports
 * it on the Machine; the functions that only observe DataVolumes and VMIs leave the Machine to
 * it. The check comes first because a client connecting to an IP literal never calls the
 * guarded lookup of shared/infra/clients.ts.
 */
import { KubeconfigError, connectionFromKubeconfig } from '../kube/kubeconfig.js';
import type { KubeClient } from '../kube/rest.js';
import type { Cidr } from '../preflight/cidr.js';
import type { Resolve } from '../preflight/ssrf.js';
import { checkInfraServer, type ServerCheck } from './server-guard.js';
import { operatorKubeconfig } from './clients.js';

export type InfraTarget = { ok: true; infra: KubeClient } | { ok: false; permanent: boolean; message: string };

export interface InfraTargetDeps {
  env: NodeJS.ProcessEnv;
  /** Client for a spec's kubeconfig (undefined → this function's own infra identity). */
  infraFor(kubeconfig: string | undefined): KubeClient;
  resolve: Resolve;
  allow: readonly Cidr[];
}

const FIELD = "the providerSpec's infra kubeconfig";
/** Servers that passed recently: a MachineDeployment's burst judges its infra server once. */
const SERVER_OK_TTL_MS = 60_000;
const serversOk = new Map<string, number>();

export async function infraTarget(deps: InfraTargetDeps, kubeconfig: string | undefined): Promise<InfraTarget> {
  if (kubeconfig !== undefined && kubeconfig !== operatorKubeconfig(deps.env)) {
    let server: string;
    try {
      server = connectionFromKubeconfig(kubeconfig, { inlineOnly: true }).server;
    } catch (e) {
      return { ok: false, permanent: true, message: `${FIELD}: ${(e as Error).message}` };
    }
    if ((serversOk.get(server) ?? 0) < Date.now()) {
      const check: ServerCheck = await checkInfraServer(server, FIELD, deps.resolve, deps.allow);
      if (!check.ok) return check;
      if (serversOk.size > 1000) serversOk.clear();
      serversOk.set(server, Date.now() + SERVER_OK_TTL_MS);
    }
  }
  try {
    return { ok: true, infra: deps.infraFor(kubeconfig) };
  } catch (e) {
    // KubeconfigError, or the operator's kubeconfig naming a file that is not there.
    const what = kubeconfig === undefined ? "the function's own kubeconfig" : FIELD;
    const message = e instanceof KubeconfigError ? e.message : `cannot use it: ${(e as NodeJS.ErrnoException).code ?? 'error'}`;
    return { ok: false, permanent: true, message: `${what}: ${message}` };
  }
}
