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
 * Applies `w` to exactly the Node version read (resourceVersion precondition: the taint list is
 * replaced whole, and a Node replaced under the same name must not receive another Machine's
 * label); a 409 is retried by redelivery, which re-reads.
 */
export function patchNode(kube: KubeClient, node: Node, w: NodeWrite): Promise<Node> {
  return kube.patch<Node>(nodePath(node.metadata.name), 'merge', {
    metadata: { uid: node.metadata.uid, resourceVersion: node.metadata.resourceVersion, ...(w.metadata ?? {}) },
    ...(w.taints ? { spec: { taints: w.taints } } : {}),
  });
}
