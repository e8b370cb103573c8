/**
 * Dependencies of the functions that react to infra-cluster objects (DataVolumes, VMIs):
 * the infra cluster (where their events come from) and the Machines' cluster.
 */
import type { KubeClient } from '../kube/rest.js';
import { infraClusterClient, machinesClusterClient } from '../kube/clusters.js';
import { MachineApi } from '../machine/api.js';
import { ceOverridesFromEnv, sinkFromEnv, type EventSink } from './sink.js';
import type { Logger } from './log.js';

export interface InfraDeps {
  infra: KubeClient;
  machines: MachineApi;
  sink: EventSink;
  env: NodeJS.ProcessEnv;
  ceOverrides: Record<string, string>;
  now: () => number;
}

export function wireInfraDeps(env: NodeJS.ProcessEnv, log: Logger, component: string): InfraDeps {
  return {
    infra: infraClusterClient(env),
    machines: new MachineApi(machinesClusterClient(env), component),
    sink: sinkFromEnv(env, (msg, f) => log.warn(msg, f as Record<string, unknown>)),
    env,
    ceOverrides: ceOverridesFromEnv(env),
    now: Date.now,
  };
}
