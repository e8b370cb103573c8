/**
 * The Node's readiness as the Machine shows it (status model of issue 16): the Machine's
 * `status.conditions` entry `Ready` mirrors the linked Node's Ready condition (status,
 * lastTransitionTime, reason, message), as machine-controller keeps a Machine's conditions
 * from its Node's. What changed between the mirrored and the observed state is the transition
 * the `machine.node.joined` / `machine.node.lost` follow-ups announce. Pure.
 */
import type { Machine } from '../machine/types.js';
import type { MachineCondition, Node, NodeCondition } from './types.js';

/** The Node's Ready condition; a Node that reports none is Unknown (the node lifecycle controller's view). */
export function nodeReady(node: Node): NodeCondition {
  return node.status?.conditions?.find((c) => c.type === 'Ready') ?? { type: 'Ready', status: 'Unknown', reason: 'NodeStatusNeverUpdated' };
}

/** The Machine's mirrored Ready condition, if any. */
export function machineReady(m: Machine): MachineCondition | undefined {
  const list = m.status?.conditions;
  return Array.isArray(list) ? (list as MachineCondition[]).find((c) => c?.type === 'Ready') : undefined;
}

/** Whether the Machine's mirror says its linked Node (by UID) is Ready. */
export function mirroredReady(m: Machine, nodeUid: string): boolean {
  return (m.status?.nodeRef as { uid?: string } | undefined)?.uid === nodeUid && machineReady(m)?.status === 'True';
}

/**
 * Whether `node` is an older reading of the Node the Machine already mirrors. A delivery reads
 * the Node, then finds and reads its Machine; meanwhile another delivery may have mirrored a newer
 * reading (the kubelet registers a Node first and reports Ready moments later). Writing from the
 * older one would take a Ready Machine back to Unknown and announce a loss that never happened,
 * and nothing would correct it until the Node next changes. A Node's Ready condition, once
 * posted, is never removed, and its lastTransitionTime only moves forward: a reading without
 * one, or with an earlier transition, than the mirror of the same Node (by UID) is stale.
 */
export function staleReading(m: Machine, node: Node): boolean {
  if ((m.status?.nodeRef as { uid?: string } | undefined)?.uid !== node.metadata.uid) return false;
  const mirrored = machineReady(m);
  if (!mirrored || mirrored.reason === 'NodeStatusNeverUpdated' || mirrored.reason === 'NodeDeleted') return false;
  const read = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (!read) return true;
  const [r, w] = [Date.parse(read.lastTransitionTime ?? ''), Date.parse(mirrored.lastTransitionTime ?? '')];
  return !Number.isNaN(r) && !Number.isNaN(w) && r < w;
}

/**
 * The mirror of `c` as the Machine carries it. A condition without lastTransitionTime (a
 * hand-made Node) keeps the time already mirrored for the same status, else `now`: a replay must
 * not move it.
 */
export function mirror(c: NodeCondition, prev: MachineCondition | undefined, now: string): MachineCondition {
  const kept = prev && prev.status === c.status ? prev.lastTransitionTime : undefined;
  const out: MachineCondition = { type: 'Ready', status: c.status, lastTransitionTime: c.lastTransitionTime ?? kept ?? now };
  if (c.reason) out.reason = c.reason;
  if (c.message) out.message = c.message;
  return out;
}

/** The condition written when the linked Node object is gone: the Machine has no Node to report on. */
export function deletedCondition(nodeName: string, now: string): MachineCondition {
  return { type: 'Ready', status: 'Unknown', reason: 'NodeDeleted', message: `Node ${nodeName} was deleted`, lastTransitionTime: now };
}

export const sameCondition = (a: MachineCondition | undefined, b: MachineCondition): boolean =>
  !!a &&
  a.status === b.status &&
  (a.reason ?? '') === (b.reason ?? '') &&
  (a.message ?? '') === (b.message ?? '') &&
  (a.lastTransitionTime ?? '') === (b.lastTransitionTime ?? '');

/** The Machine's condition list with `Ready` replaced by `c` (other types kept, in place). */
export function withReady(m: Machine, c: MachineCondition): MachineCondition[] {
  const list = Array.isArray(m.status?.conditions) ? (m.status!.conditions as MachineCondition[]) : [];
  const i = list.findIndex((x) => x?.type === 'Ready');
  return i < 0 ? [...list, c] : list.map((x, j) => (j === i ? c : x));
}

/** A readiness follow-up with its once-per-transition key (Node UID and the transition's time). */
export type Announcement =
  { type: 'joined'; key: string } | { type: 'lost'; key: string; reason: 'NotReady' | 'Unknown'; message?: string };

/**
 * How the Node's current readiness is announced: `joined` when Ready, else `lost`. Keyed by Node
 * UID and the transition's time, so a Node that flaps is announced once per flap and a replayed
 * event never twice.
 */
export function announcement(node: Node): Announcement {
  const c = nodeReady(node);
  const key = `${node.metadata.uid}/${c.lastTransitionTime ?? ''}`;
  if (c.status === 'True') return { type: 'joined', key };
  return { type: 'lost', key, reason: c.status === 'False' ? 'NotReady' : 'Unknown', ...(c.message ? { message: c.message } : {}) };
}

/**
 * The follow-up a Node observation calls for: `joined` when the Node is Ready and the Machine's
 * mirror did not say so (for this Node), `lost` when the mirror said Ready and the Node no longer
 * is.
 */
export function transition(m: Machine, node: Node): Announcement | undefined {
  const a = announcement(node);
  const was = mirroredReady(m, node.metadata.uid);
  return (a.type === 'joined') !== was ? a : undefined;
}
