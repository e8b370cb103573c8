/**
 * Entry of the machine function: Machine ApiServerSource events → VirtualMachine + DataVolume
 * import on the infra cluster. Served by functions-framework (`--target=machine`).
 */
import * as ff from '@google-cloud/functions-framework';
import { cloudEventHandler } from '../../shared/runtime/handler.js';
import { createLogger } from '../../shared/runtime/log.js';
import { KubeClient } from '../../shared/kube/rest.js';
import { defaultConnection } from '../../shared/kube/kubeconfig.js';
import { MachineApi } from '../../shared/machine/api.js';
import { infraClientFor } from '../../shared/infra/clients.js';
import { ceOverridesFromEnv, sinkFromEnv } from '../../shared/runtime/sink.js';
import { allowListFromEnv, systemResolve } from '../../shared/preflight/index.js';
import { insecureRegistriesFromEnv } from '../../shared/image/registry-ref.js';
import { FUNCTION_NAME, type MachineDeps } from './context.js';
import { machineReconciler } from './reconcile.js';

const log = createLogger({ function: FUNCTION_NAME });

/** Wires the real dependencies lazily, on the first event, so start-up stays cheap. */
let deps: MachineDeps | undefined;
function wire(): MachineDeps {
  deps ??= {
    machines: new MachineApi(new KubeClient(defaultConnection(process.env))),
    infraFor: (kubeconfig) => infraClientFor(kubeconfig, process.env),
    sink: sinkFromEnv(process.env, (msg, f) => log.warn(msg, f as Record<string, unknown>)),
    env: process.env,
    ceOverrides: ceOverridesFromEnv(process.env),
    preflight: {
      allow: allowListFromEnv(process.env),
      resolve: systemResolve,
      timeoutMs: Number(process.env.IMAGE_PREFLIGHT_TIMEOUT_MS) || undefined,
      insecureRegistries: insecureRegistriesFromEnv(process.env),
    },
  };
  return deps;
}

export const handler = cloudEventHandler(FUNCTION_NAME, (ev, l) => machineReconciler(wire())(ev, l), log);
ff.http(FUNCTION_NAME, handler);
