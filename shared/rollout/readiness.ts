/**
 * Machine readiness and availability as a MachineSet counts them. machine-controller counts a
 * Machine ready when its Node (status.nodeRef) is Ready, and available once it has been Ready for
 * longer than minReadySeconds (`noderefutil.IsNodeAvailable`). Our stack may not see the guest's
 * Node (no kubeconfig for the user cluster, or no kubelet in a simulator), so where no Node is
 * linked our vmi function's `VMIReady` condition stands in; on a Machine written before that
 * condition existed, `status.providerStatus.phase === 'Ready'`.
 */
import type { Machine } from './types.js';

/** What the caller found for the Machine's Node: its Ready condition. */
export interface NodeObservation {
  ready: boolean;
  /** The Ready condition's lastTransitionTime (RFC 3339). */
  readySince?: string;
}

/** Everything beyond the Machine object that readiness depends on; looked up by the caller. */
export interface MachineObservation {
  /** The Node named by status.nodeRef, when it exists and is visible; absent or null otherwise. */
  node?: NodeObservation | null;
  /** Without a Node: the vmi function's VMIReady condition, when the Machine has one. */
  vmi?: NodeObservation;
  /** When the Machine became ready, where the caller knows it (e.g. the VMI function's record). */
  readySince?: string;
}

export interface MachineReadiness {
  ready: boolean;
  available: boolean;
  /** Epoch ms when the Machine became ready, when known. */
  readyAt?: number;
  /** Epoch ms after which it counts as available (ready, not yet available Machines only). */
  availableAt?: number;
}

const parseTime = (t: string | undefined | null): number | undefined => {
  if (!t) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
};

/**
 * Ready: the visible Node's Ready condition, else the VMIReady condition, else our provider
 * phase. The ready time: the Node's (or VMIReady's) transition, else the caller's `readySince`,
 * else — for the phase path only —
 * `status.lastUpdated`, which is never earlier than the phase change and so errs towards
 * "not yet available" rather than counting a Machine too early.
 *
 * Available: ready, and minReadySeconds is 0 or strictly more than minReadySeconds have passed
 * since the ready time (Kubernetes compares with Before). Without a ready time a Machine is
 * available only when minReadySeconds is 0.
 */
export function machineReadiness(m: Machine, obs: MachineObservation | undefined, minReadySeconds: number, now: number): MachineReadiness {
  const node = obs?.node ?? obs?.vmi ?? undefined;
  let ready: boolean;
  let readyAt: number | undefined;
  if (node) {
    ready = node.ready;
    readyAt = parseTime(node.readySince) ?? parseTime(obs?.readySince);
  } else {
    ready = m.status?.providerStatus?.phase === 'Ready';
    readyAt = parseTime(obs?.readySince) ?? parseTime(m.status?.lastUpdated);
  }
  if (!ready) return { ready: false, available: false };
  if (minReadySeconds <= 0) return { ready, available: true, ...(readyAt !== undefined ? { readyAt } : {}) };
  if (readyAt === undefined) return { ready, available: false };
  const availableAt = readyAt + minReadySeconds * 1000;
  return availableAt < now ? { ready, available: true, readyAt } : { ready, available: false, readyAt, availableAt };
}
