/** Fresh Machines and Nodes for the node function's pure tests (a new object per call). */
import { MACHINE_FINALIZER } from '../../../shared/constants.js';
import type { Machine } from '../../../shared/machine/types.js';
import type { Node, NodeCondition } from '../../../shared/node/types.js';

export function machine(
  over: {
    name?: string;
    uid?: string;
    providerID?: string;
    addresses?: string[];
    status?: Record<string, unknown>;
    spec?: Record<string, unknown>;
    finalizer?: boolean;
    deleting?: boolean;
  } = {},
): Machine {
  const name = over.name ?? 'md-1';
  return {
    apiVersion: 'cluster.k8s.io/v1alpha1',
    kind: 'Machine',
    metadata: {
      name,
      namespace: 'machines',
      uid: over.uid ?? `uid-${name}`,
      resourceVersion: '10',
      finalizers: over.finalizer === false ? [] : [MACHINE_FINALIZER],
      ...(over.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: { ...(over.providerID ? { providerID: over.providerID } : {}), ...(over.spec ?? {}) },
    status: {
      ...(over.addresses ? { addresses: over.addresses.map((address) => ({ type: 'InternalIP', address })) } : {}),
      ...(over.status ?? {}),
    },
  };
}

export const readyCondition = (
  status: 'True' | 'False' | 'Unknown',
  at = '2026-01-01T10:00:00Z',
  reason = 'KubeletReady',
): NodeCondition => ({
  type: 'Ready',
  status,
  reason,
  message: `kubelet is ${status === 'True' ? '' : 'not '}posting ready status`,
  lastHeartbeatTime: '2026-01-01T10:05:00Z',
  lastTransitionTime: at,
});

export function node(
  over: {
    name?: string;
    uid?: string;
    providerID?: string;
    addresses?: string[];
    ready?: NodeCondition;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    taints?: Node['spec'] extends infer S ? (S extends { taints?: infer T } ? T : never) : never;
  } = {},
): Node {
  const name = over.name ?? 'md-1';
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      uid: over.uid ?? `node-uid-${name}`,
      resourceVersion: '5',
      ...(over.labels ? { labels: over.labels } : {}),
      ...(over.annotations ? { annotations: over.annotations } : {}),
    },
    spec: { ...(over.providerID ? { providerID: over.providerID } : {}), ...(over.taints ? { taints: over.taints } : {}) },
    status: {
      addresses: (over.addresses ?? []).map((address) => ({ type: 'InternalIP', address })),
      conditions: over.ready ? [over.ready] : [],
      nodeInfo: { kubeletVersion: 'v1.36.3' },
    },
  };
}
