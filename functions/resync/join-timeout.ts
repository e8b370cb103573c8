/**
 * machine-controller's `joinClusterTimeout`, driven by the resync tick: a MachineSet's Machine
 * whose VM was created (`VirtualMachineCreated=True` since T) but that has no Node linked
 * (`status.nodeRef`, written by the node function) after `JOIN_CLUSTER_TIMEOUT` gets
 * `errorReason: JoinClusterTimeoutError` and a Warning Event, and is deleted, so its MachineSet
 * creates a replacement. Off unless configured: without a node function linking Nodes, every
 * Machine would time out.
 */
import { MACHINE, objectPath } from '../../shared/kube/paths.js';
import { ApiError } from '../../shared/kube/rest.js';
import type { MachineApi } from '../../shared/machine/api.js';
import { ConditionType, providerCondition } from '../../shared/machine/conditions.js';
import { owningMachineSet, type Machine } from '../../shared/machine/types.js';
import type { Logger } from '../../shared/runtime/log.js';

export const JOIN_TIMEOUT_REASON = 'JoinClusterTimeoutError';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * `JOIN_CLUSTER_TIMEOUT` as machine-controller's `-join-cluster-timeout` flag takes it: a Go
 * duration (`15m`, `1h30m`, `90s`). Unset, empty or zero → off; anything unparsable throws (the
 * caller logs it as an error on every tick instead of silently running without the timeout).
 */
export function joinTimeoutMs(env: NodeJS.ProcessEnv | undefined): number | undefined {
  const text = env?.JOIN_CLUSTER_TIMEOUT?.trim();
  if (!text || text === '0') return undefined;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== text)
    throw new Error(`JOIN_CLUSTER_TIMEOUT: not a duration like 15m or 1h30m: ${JSON.stringify(text)}`);
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]!]!, 0);
  return ms > 0 ? ms : undefined;
}

/** Since when `m` has waited for its Node, when the join timeout applies to it at all. */
export function waitingToJoinSince(m: Machine): number | undefined {
  if (m.metadata.deletionTimestamp || m.status?.nodeRef?.name || !owningMachineSet(m)) return undefined;
  const created = providerCondition(m, ConditionType.VirtualMachineCreated);
  if (created?.status !== 'True') return undefined;
  const since = Date.parse(created.lastTransitionTime);
  return Number.isNaN(since) ? undefined : since;
}

export interface JoinTimeoutDeps {
  machines: MachineApi;
  /** Absent (or without JOIN_CLUSTER_TIMEOUT): off. */
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

/** Deletes the listed Machines that timed out joining; returns how many. Errors per Machine are logged, not thrown. */
export async function expireUnjoinedMachines(deps: JoinTimeoutDeps, listed: readonly unknown[], log: Logger): Promise<number> {
  let timeout: number | undefined;
  try {
    timeout = joinTimeoutMs(deps.env);
  } catch (e) {
    log.error('join cluster timeout not applied', { error: (e as Error).message });
    return 0;
  }
  if (timeout === undefined) return 0;
  const now = (deps.now ?? Date.now)();
  let deleted = 0;
  for (const m of listed as Machine[]) {
    const since = waitingToJoinSince(m);
    if (since === undefined || now - since <= timeout) continue;
    const l = log.with({ machine: `${m.metadata.namespace}/${m.metadata.name}` });
    const message = `Machine ${m.metadata.namespace}/${m.metadata.name} did not join the cluster within ${deps.env!.JOIN_CLUSTER_TIMEOUT!.trim()} of its VirtualMachine being created; deleting it so that its MachineSet replaces it`;
    try {
      // Guarded by the listed resourceVersion: a Node linked meanwhile (409) keeps the Machine.
      const updated = await deps.machines.patchStatus(
        m,
        { errorReason: JOIN_TIMEOUT_REASON, errorMessage: message, providerStatus: { errorOwner: 'machine' } },
        m.metadata.resourceVersion,
      );
      deps.machines.recordEventAsync(m, 'Warning', JOIN_TIMEOUT_REASON, message, (e) =>
        l.warn('recording an Event failed', { error: e.message }),
      );
      await deps.machines.kube.delete(objectPath(MACHINE, m.metadata.namespace, m.metadata.name), 'Background', updated.metadata.uid);
      deleted++;
      l.warn('join cluster timeout: machine deleted', { waitedSeconds: Math.round((now - since) / 1000) });
    } catch (e) {
      if (e instanceof ApiError && (e.status === 409 || e.status === 404)) continue; // changed or gone: next tick looks again
      l.warn('join cluster timeout: could not delete the machine', { error: (e as Error).message });
    }
  }
  return deleted;
}
