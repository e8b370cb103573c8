/**
 * From listed Machines to what the rollout planners need: per-Machine observations (when it
 * became ready, from the VMI function's `machine.ready` record) and per-MachineSet counts.
 */
import { FollowUpType } from '../../events/followup.js';
import type { Machine } from '../machine/types.js';
import type { MachineSet } from './types.js';
import type { MachineObservation } from './readiness.js';
import { viewMachineSet } from './machineset.js';
import type { MachineSetObservation } from './working.js';

/** No Node of the user cluster is visible to us: readiness comes from our own record. */
export function observationsOf(machines: readonly Machine[]): Record<string, MachineObservation> {
  const out: Record<string, MachineObservation> = {};
  for (const m of machines) {
    const readySince = m.status?.providerStatus?.emitted?.[FollowUpType.ready]?.at;
    out[m.metadata.name] = readySince ? { node: null, readySince } : { node: null };
  }
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
