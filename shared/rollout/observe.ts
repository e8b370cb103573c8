/**
 * From listed Machines to what the rollout planners need: per-Machine observations, read from
 * the Machine's state only (never from the record of which follow-up events were delivered), and
 * per-MachineSet counts.
 */
import type { Machine } from '../machine/types.js';
import { ConditionType, nodeReadyCondition, providerCondition } from '../machine/conditions.js';
import type { MachineSet } from './types.js';
import type { MachineObservation } from './readiness.js';
import { viewMachineSet } from './machineset.js';
import type { MachineSetObservation } from './working.js';

/**
 * A Machine linked to its Node (`status.nodeRef`) is ready iff the Node is: the node function
 * mirrors the Node's Ready condition into `status.conditions` (not there yet → not ready). Without
 * a Node, the vmi function's `VMIReady` condition; neither (a Machine written before conditions)
 * leaves it to machineReadiness's phase fallback.
 */
export function observationOf(m: Machine): MachineObservation {
  if (m.status?.nodeRef?.name) {
    const c = nodeReadyCondition(m);
    return { node: { ready: c?.status === 'True', ...(c?.since ? { readySince: c.since } : {}) } };
  }
  const vmi = providerCondition(m, ConditionType.VMIReady);
  if (vmi) return { node: null, vmi: { ready: vmi.status === 'True', readySince: vmi.lastTransitionTime } };
  return { node: null };
}

export function observationsOf(machines: readonly Machine[]): Record<string, MachineObservation> {
  const out: Record<string, MachineObservation> = {};
  for (const m of machines) out[m.metadata.name] = observationOf(m);
  return out;
}

/** Live counts per MachineSet, including Machines still being deleted (they still exist). */
export function observedCounts(
  sets: readonly MachineSet[],
  machines: readonly Machine[],
  now: number,
): Record<string, MachineSetObservation> {
  const obs = observationsOf(machines);
  const out: Record<string, MachineSetObservation> = {};
  for (const ms of sets) {
    const v = viewMachineSet(ms, machines, obs, now);
    out[ms.metadata.name] = {
      replicas: v.owned.length,
      ready: v.status.readyReplicas,
      available: v.status.availableReplicas,
      terminating: v.terminating.length,
    };
  }
  return out;
}
