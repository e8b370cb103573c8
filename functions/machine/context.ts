/**
 * Everything a machine reconcile needs, wired once per process (see index.ts) and injected,
 * so tests and the benchmark can count or replace the I/O.
 */
import type { KubeClient } from '../../shared/kube/rest.js';
import type { MachineApi } from '../../shared/machine/api.js';
import type { EventSink } from '../../shared/runtime/sink.js';
import type { Logger } from '../../shared/runtime/log.js';
import type { FollowUpContext } from '../../events/followup.js';
import type { PreflightDeps } from '../../shared/preflight/index.js';
import type { ReferencedValue } from '../../shared/providerspec/referenced-values.js';

export interface MachineDeps {
  /** The Machines' cluster. */
  machines: MachineApi;
  /** Infra-cluster client for a spec's kubeconfig (undefined → this cluster). */
  infraFor(kubeconfig: string | undefined): KubeClient;
  sink: EventSink;
  env: NodeJS.ProcessEnv;
  ceOverrides: Record<string, string>;
  /** Image preflight settings: the SSRF allow-list, the resolver, the probe timeout. */
  preflight: PreflightDeps;
}

export interface ReconcileContext extends MachineDeps {
  log: Logger;
  traceparent?: string;
  /** Values this Machine's spec read from Secrets/ConfigMaps, once parsed: never to be quoted. */
  referenced?: ReferencedValue[];
}

export const FUNCTION_NAME = 'machine';

export function followUpCtx(ctx: ReconcileContext): FollowUpContext {
  return { function: FUNCTION_NAME, traceparent: ctx.traceparent, overrides: ctx.ceOverrides };
}

// Moved to shared/ (the datavolume and vmi functions check an object's namespace by the same rule).
export { infraNamespace } from '../../shared/infra/namespace.js';
