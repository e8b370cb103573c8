/**
 * Which Machine a Node belongs to, as machine-controller finds it
 * (pkg/controller/machine/controller.go, reference §5.2): the Node's `spec.providerID` equal to
 * the instance's (`kubevirt://<vmi name>`, which our vmi function writes to the Machine's
 * `spec.providerID`), compared case-insensitively; else any Node address equal to one of the
 * Machine's `status.addresses`. Pure.
 */
import { MACHINE_FINALIZER } from '../constants.js';
import { NODE_OWNER_LABEL } from '../machine/drain-plan.js';
import { foreignMachine } from '../machine/foreign.js';
import type { Machine } from '../machine/types.js';
import type { Node } from './types.js';

/** machine-controller's label on a Node: the UID of the Machine it belongs to (the drain reads it). */
export const LABEL_OWNED_BY = NODE_OWNER_LABEL;
/** machine-controller's annotation on a Ready Node: `<namespace>/<name>` of its Machine. */
export const ANN_MACHINE = 'cluster.k8s.io/machine';

export type MatchedBy = 'nodeRef' | 'providerID' | 'address';

export const sameProviderId = (a: string | undefined, b: string | undefined): boolean => !!a && !!b && a.toLowerCase() === b.toLowerCase();

/**
 * Whether the node function may write this Machine (and the Node it links): ours by
 * machine-controller's rule (kubevirt cloudProvider, the worker label we serve: foreign.ts) and
 * provisioned by the machine function (it holds our finalizer). Machines being deleted are the
 * drain's.
 */
export function linkable(m: Machine, env: NodeJS.ProcessEnv): boolean {
  return !!m.metadata.finalizers?.includes(MACHINE_FINALIZER) && !m.metadata.deletionTimestamp && !foreignMachine(m, env);
}

/** How `node` matches `m`, or undefined. An existing link (nodeRef name) wins. */
export function matchNode(m: Machine, node: Node): MatchedBy | undefined {
  if (m.status?.nodeRef?.name === node.metadata.name) return 'nodeRef';
  if (sameProviderId(m.spec?.providerID, node.spec?.providerID)) return 'providerID';
  const ours = new Set((m.status?.addresses ?? []).map((a) => a.address).filter(Boolean));
  if ((node.status?.addresses ?? []).some((a) => a.address && ours.has(a.address))) return 'address';
  return undefined;
}

const RANK: Record<MatchedBy, number> = { nodeRef: 0, providerID: 1, address: 2 };

/**
 * The Machine of `node` among `machines` (only linkable ones), the strongest match first
 * (nodeRef, then providerID, then address); ties (two Machines claiming one address) go to no
 * one, since linking the wrong Machine would mislabel a Node.
 */
export function machineForNode(node: Node, machines: Machine[], env: NodeJS.ProcessEnv): { machine: Machine; by: MatchedBy } | undefined {
  const found = machines
    .filter((m) => linkable(m, env))
    .map((machine) => ({ machine, by: matchNode(machine, node) }))
    .filter((x): x is { machine: Machine; by: MatchedBy } => x.by !== undefined)
    .sort((a, b) => RANK[a.by] - RANK[b.by]);
  if (found.length === 0) return undefined;
  if (found.length > 1 && RANK[found[0]!.by] === RANK[found[1]!.by]) return undefined;
  return found[0];
}

/** The Node of `m` among `nodes`, by the same rules; ambiguous → undefined. */
export function nodeForMachine(m: Machine, nodes: Node[]): { node: Node; by: MatchedBy } | undefined {
  const found = nodes
    .filter((n) => !n.metadata.deletionTimestamp)
    .map((node) => ({ node, by: matchNode(m, node) }))
    .filter((x): x is { node: Node; by: MatchedBy } => x.by !== undefined)
    .sort((a, b) => RANK[a.by] - RANK[b.by]);
  if (found.length === 0) return undefined;
  if (found.length > 1 && RANK[found[0]!.by] === RANK[found[1]!.by]) return undefined;
  return found[0];
}

/** Where a Machine's Node most likely is by name: the VM name of `kubevirt://<vm>` (the kubelet registers under the VM's hostname). */
export function likelyNodeName(m: Machine): string | undefined {
  const id = m.spec?.providerID;
  const match = id ? /^kubevirt:\/\/(.+)$/i.exec(id) : null;
  return match?.[1]?.toLowerCase() ?? m.status?.providerStatus?.virtualMachine?.name;
}
