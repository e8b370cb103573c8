/**
 * The Machine status fields the node function owns (status model of issue 16, in
 * machine-controller's shape): `status.nodeRef` (a corev1.ObjectReference to the Node),
 * `status.versions.kubelet` (the Node's `nodeInfo.kubeletVersion`) and the `Ready` entry of
 * `status.conditions` (ready.ts). Pure: what differs, or nothing.
 */
import type { Machine } from '../machine/types.js';
import { machineReady, mirror, nodeReady, sameCondition, withReady } from './ready.js';
import type { Node, NodeRef } from './types.js';

/** The Machine status fields the node function owns, where they differ from `node`; undefined when none does. */
export function machineStatus(m: Machine, node: Node, now: string): Record<string, unknown> | undefined {
  const status: Record<string, unknown> = {};
  const ref: NodeRef = { apiVersion: 'v1', kind: 'Node', name: node.metadata.name, uid: node.metadata.uid };
  const have = m.status?.nodeRef as Partial<NodeRef> | undefined;
  if (!have || have.name !== ref.name || have.uid !== ref.uid || have.apiVersion !== 'v1' || have.kind !== 'Node') status.nodeRef = ref;
  const kubelet = node.status?.nodeInfo?.kubeletVersion;
  const versions = m.status?.versions as { kubelet?: string } | undefined;
  if (kubelet && versions?.kubelet !== kubelet) status.versions = { kubelet };
  const prev = machineReady(m);
  const cond = mirror(nodeReady(node), prev, now);
  if (!sameCondition(prev, cond)) status.conditions = withReady(m, cond);
  if (Object.keys(status).length === 0) return undefined;
  status.lastUpdated = now;
  return status;
}
