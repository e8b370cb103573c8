/**
 * Node reads and writes on the Machines' cluster (Nodes are cluster-scoped: no namespace).
 */
import type { KubeClient } from '../kube/rest.js';
import type { Node } from './types.js';
import type { NodeWrite } from './merge.js';

export const NODES_PATH = '/api/v1/nodes';
export const nodePath = (name: string): string => `${NODES_PATH}/${encodeURIComponent(name)}`;

export const getNode = (kube: KubeClient, name: string): Promise<Node | undefined> => kube.get<Node>(nodePath(name));

/**
 * Every Node, from the API server's watch cache (`resourceVersion=0`: no etcd read, the cheap
 * list), for a Machine whose Node is not where its name suggests.
 */
export async function listNodes(kube: KubeClient): Promise<Node[]> {
  const list = await kube.request<{ items?: Node[] }>('GET', NODES_PATH, { query: { resourceVersion: '0' } });
  return list.items ?? [];
}

/**
 * Applies `w` to the Node read: never to another Node of the same name (uid), and when it
 * replaces the taint list (a merge patch replaces lists whole) only to that very version
 * (resourceVersion), so a taint someone added meanwhile is not lost. Labels and annotations
 * are merged key by key and need no version: the kubelet's status updates do not conflict with
 * them. A refused precondition is retried by redelivery, which re-reads.
 */
export function patchNode(kube: KubeClient, node: Node, w: NodeWrite): Promise<Node> {
  const version = w.taints ? { resourceVersion: node.metadata.resourceVersion } : {};
  return kube.patch<Node>(nodePath(node.metadata.name), 'merge', {
    metadata: { uid: node.metadata.uid, ...version, ...(w.metadata ?? {}) },
    ...(w.taints ? { spec: { taints: w.taints } } : {}),
  });
}
