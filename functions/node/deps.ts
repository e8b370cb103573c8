/** What the node function talks to: the Machines' cluster (Machines and Nodes), the event sink, the clock. */
import { machinesClusterClient } from '../../shared/kube/clusters.js';
import { MachineApi } from '../../shared/machine/api.js';
import { ceOverridesFromEnv, sinkFromEnv, type EventSink } from '../../shared/runtime/sink.js';
import type { Logger } from '../../shared/runtime/log.js';

export interface NodeDeps {
  /** Machines, and through `machines.kube` the Nodes of the same cluster. */
  machines: MachineApi;
  sink: EventSink;
  ceOverrides: Record<string, string>;
  /** WORKER_NAME: which Machines are ours (shared/machine/foreign.ts). */
  env: NodeJS.ProcessEnv;
  now: () => number;
}

export function wireNodeDeps(env: NodeJS.ProcessEnv, log: Logger): NodeDeps {
  return {
    machines: new MachineApi(machinesClusterClient(env), 'kubevirt-machine-functions'),
    sink: sinkFromEnv(env, (msg, f) => log.warn(msg, f as Record<string, unknown>)),
    ceOverrides: ceOverridesFromEnv(env),
    env,
    now: Date.now,
  };
}
