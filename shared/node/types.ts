/**
 * The slice of a core v1 Node the node function reads and writes, and the machine-controller
 * Machine fields it owns (`status.nodeRef`, `status.versions.kubelet`, `status.conditions`).
 */

export interface Taint {
  key: string;
  value?: string;
  effect: string;
  timeAdded?: string;
}

export interface NodeCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown' | string;
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
}

export interface Node {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    uid: string;
    resourceVersion: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: { providerID?: string; taints?: Taint[]; unschedulable?: boolean };
  status?: {
    addresses?: { type: string; address: string }[];
    conditions?: NodeCondition[];
    nodeInfo?: { kubeletVersion?: string };
  };
}

/** machine-controller's `status.nodeRef`: a corev1.ObjectReference to the Node. */
export interface NodeRef {
  apiVersion: 'v1';
  kind: 'Node';
  name: string;
  uid: string;
}

/**
 * One entry of machine-controller's Machine `status.conditions` (a corev1.NodeCondition: the
 * Machine's conditions are its Node's). lastHeartbeatTime is left out on purpose: it moves with
 * every kubelet heartbeat and would make every Node update a Machine write.
 */
export interface MachineCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}
