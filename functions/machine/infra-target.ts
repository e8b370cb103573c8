/**
 * The infra cluster a Machine's spec names, judged before the first request to it: a kubeconfig
 * the client cannot use (exec plugin, a missing CA file of the operator's, a server that is not
 * a URL) or a server the SSRF guard refuses is a permanent fault, reported on the Machine
 * instead of a retry that stalls silently.
 */
import { KubeconfigError, connectionFromKubeconfig } from '../../shared/kube/kubeconfig.js';
import type { KubeClient } from '../../shared/kube/rest.js';
import { checkInfraServer, type ServerCheck } from '../../shared/infra/server-guard.js';
import { operatorKubeconfig } from '../../shared/infra/clients.js';
import type { ReconcileContext } from './context.js';

export type InfraTarget = { ok: true; infra: KubeClient } | { ok: false; permanent: boolean; message: string };

const FIELD = "the providerSpec's infra kubeconfig";
/** Servers that passed recently: a MachineDeployment's burst judges its infra server once. */
const SERVER_OK_TTL_MS = 60_000;
const serversOk = new Map<string, number>();

export async function infraTarget(ctx: ReconcileContext, kubeconfig: string | undefined): Promise<InfraTarget> {
  if (kubeconfig !== undefined && kubeconfig !== operatorKubeconfig(ctx.env)) {
    let server: string;
    try {
      server = connectionFromKubeconfig(kubeconfig, { inlineOnly: true }).server;
    } catch (e) {
      return { ok: false, permanent: true, message: `${FIELD}: ${(e as Error).message}` };
    }
    if ((serversOk.get(server) ?? 0) < Date.now()) {
      const check: ServerCheck = await checkInfraServer(server, FIELD, ctx.preflight.resolve, ctx.preflight.allow);
      if (!check.ok) return check;
      if (serversOk.size > 1000) serversOk.clear();
      serversOk.set(server, Date.now() + SERVER_OK_TTL_MS);
    }
  }
  try {
    return { ok: true, infra: ctx.infraFor(kubeconfig) };
  } catch (e) {
    // KubeconfigError, or the operator's kubeconfig naming a file that is not there.
    const what = kubeconfig === undefined ? "the function's own kubeconfig" : FIELD;
    const message = e instanceof KubeconfigError ? e.message : `cannot use it: ${(e as NodeJS.ErrnoException).code ?? 'error'}`;
    return { ok: false, permanent: true, message: `${what}: ${message}` };
  }
}
