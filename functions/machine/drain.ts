/**
 * A deleted Machine's Node, on the Machines' cluster: drained before the VM goes, deleted after.
 * Follows machine-controller v1.66.0 (`pkg/controller/machine/controller.go` deleteMachine,
 * shouldEvict, retrieveNodesRelatedToMachine, deleteNodeForMachine; `pkg/node/eviction`), with
 * two differences that keep us to objects that are ours:
 * - a Node is only acted on when it carries `machine-controller/owned-by=<Machine UID>` (the
 *   node function labels it before it writes `status.nodeRef`, as machine-controller does);
 *   `status.nodeRef` only says where to look first;
 * - each invocation issues what is left and returns (level-triggered): machine-controller's
 *   "requeue after 10 s" is Knative's redelivery (503) and the resync tick here.
 * The pure decisions (skip or drain, which pods) are shared/machine/drain-plan.ts.
 */
import { ApiError, NetworkError, type KubeClient } from '../../shared/kube/rest.js';
import { MACHINE } from '../../shared/kube/paths.js';
import {
  evictionSkip,
  formatDuration,
  hasEvictionTarget,
  NODE_OWNER_LABEL,
  podList,
  podsOnNode,
  SKIP_EVICTION_AFTER_ENV,
  type EvictionSkip,
  type NodeLike,
  type PodLike,
} from '../../shared/machine/drain-plan.js';
import type { Machine } from '../../shared/machine/types.js';

const NODES = '/api/v1/nodes';
const nodePath = (name: string) => `${NODES}/${encodeURIComponent(name)}`;

const SKIP_NOTES: Record<EvictionSkip, string> = {
  DeletionTooOld: `the deletion is older than ${SKIP_EVICTION_AFTER_ENV}`,
  NodeNotReady: 'the Node is not Ready',
  SkipEvictionAnnotation: 'the Node has the kubermatic.io/skip-eviction annotation',
  NoEvictionTarget: 'no other Node could take its pods',
};

const isOurs = (n: NodeLike, machineUid: string) => n.metadata.labels?.[NODE_OWNER_LABEL] === machineUid;

/**
 * The Machine's Nodes: the one `status.nodeRef` names when it carries our owner label (and the
 * nodeRef's uid, when given), else every Node labelled `machine-controller/owned-by=<uid>`
 * (machine-controller's retrieveNodesRelatedToMachine, which uses the label when there is no nodeRef).
 */
export async function machineNodes(kube: KubeClient, m: Machine): Promise<NodeLike[]> {
  const uid = m.metadata.uid;
  const ref = m.status?.nodeRef;
  if (ref?.name) {
    const n = await kube.get<NodeLike>(nodePath(ref.name));
    if (n && isOurs(n, uid) && (!ref.uid || ref.uid === n.metadata.uid)) return [n];
  }
  const list = await kube.request<{ items?: NodeLike[] }>('GET', NODES, { query: { labelSelector: `${NODE_OWNER_LABEL}=${uid}` } });
  return list.items ?? [];
}

export type DrainState =
  /** Nothing (left) to evict, or eviction skipped: the VM may be deleted. `notes`: what was skipped and why. */
  | { kind: 'clear'; notes: string[] }
  /** Pods are still being evicted or stopped: try again later. `errors`: evictions that failed (not budget refusals). */
  | { kind: 'draining'; message: string; errors: string[] };

type EvictionResult =
  | { pod: PodLike; kind: 'evicted' | 'gone' }
  | { pod: PodLike; kind: 'blocked' | 'error'; message: string }
  | { pod: PodLike; kind: 'refused'; error: ApiError };

/**
 * One drain pass over `nodes`: for each Node to be drained, cordon it, evict the pods not yet
 * evicted, and report what is left. A refused request (403 from RBAC) is thrown as the ApiError
 * for the caller to put on the Machine; transient failures are thrown for a retry.
 */
export async function drainPass(
  kube: KubeClient,
  m: Machine,
  nodes: NodeLike[],
  opts: { nowMs: number; skipAfterMs: number },
): Promise<DrainState> {
  const notes: string[] = [];
  const waiting: string[] = [];
  const errors: string[] = [];
  let target: ((n: NodeLike) => boolean) | undefined;
  for (const node of nodes) {
    const name = node.metadata.name;
    let skip = evictionSkip(node, m.metadata.deletionTimestamp, opts.nowMs, opts.skipAfterMs);
    if (!skip) {
      target ??= await evictionTargets(kube, m);
      if (!target(node)) skip = 'NoEvictionTarget';
    }
    if (skip) {
      notes.push(`eviction skipped on Node ${name}: ${SKIP_NOTES[skip]}`);
      continue;
    }
    await cordon(kube, node);
    const pods = await kube.request<{ items?: PodLike[] }>('GET', '/api/v1/pods', {
      query: { fieldSelector: `spec.nodeName=${name}` },
    });
    const { evict, terminating } = podsOnNode(pods.items ?? []);
    if (evict.length === 0 && terminating.length === 0) continue;
    const results = await Promise.all(evict.map((p) => evictPod(kube, p)));
    const refused = results.find((r) => r.kind === 'refused');
    if (refused) throw refused.error;
    // Just evicted pods are terminating now (the kubelet stops them within their grace period).
    const stopping = [...terminating, ...results.filter((r) => r.kind === 'evicted').map((r) => r.pod)];
    const withMessage = (kind: 'blocked' | 'error') =>
      results.filter((r): r is Extract<EvictionResult, { message: string }> => r.kind === kind);
    const blocked = withMessage('blocked');
    const failed = withMessage('error');
    const parts: string[] = [];
    if (stopping.length) parts.push(`${stopping.length} evicted pod(s) still terminating (${podList(stopping)})`);
    if (blocked.length) {
      parts.push(
        `${blocked.length} pod(s) whose eviction a PodDisruptionBudget refuses for now (${podList(blocked.map((r) => r.pod))}: ${blocked[0].message})`,
      );
    }
    if (failed.length) {
      const text = failed.map((r) => `error evicting pod ${r.pod.metadata.namespace}/${r.pod.metadata.name} on node ${name}: ${r.message}`);
      errors.push(`failed to evict node ${name}: failed to evict pods, errors encountered: [${text.join(' ')}]`);
      parts.push(`${failed.length} eviction(s) failed (${podList(failed.map((r) => r.pod))}: ${failed[0].message})`);
    }
    if (parts.length) waiting.push(`Node ${name} cordoned and draining: ${parts.join('; ')}`);
  }
  if (waiting.length === 0) return { kind: 'clear', notes };
  const deleted = m.metadata.deletionTimestamp ? Date.parse(m.metadata.deletionTimestamp) : opts.nowMs;
  const skipAt = new Date(deleted + opts.skipAfterMs).toISOString();
  return {
    kind: 'draining',
    message:
      `${waiting.join('; ')}. The VirtualMachine is deleted once no pod is left to evict, ` +
      `or without eviction from ${skipAt} (${SKIP_EVICTION_AFTER_ENV} ${formatDuration(opts.skipAfterMs)} after the deletion)`,
    errors,
  };
}

/** Whether a Node's pods could go elsewhere (hasEvictionTarget over every Machine and Node), listed once per pass. */
async function evictionTargets(kube: KubeClient, m: Machine): Promise<(n: NodeLike) => boolean> {
  const machinesPath = `/apis/${MACHINE.group}/${MACHINE.version}/${MACHINE.plural}`;
  const [machines, nodes] = await Promise.all([
    kube.request<{ items?: Machine[] }>('GET', machinesPath),
    kube.request<{ items?: NodeLike[] }>('GET', NODES),
  ]);
  return (n) => hasEvictionTarget(n, m.metadata.uid, machines.items ?? [], nodes.items ?? []);
}

/**
 * spec.unschedulable=true (kubectl cordon), guarded by the Node's UID so a Node replaced under
 * the same name is not cordoned. machine-controller cordons before it lists the pods, so the
 * scheduler places nothing new there meanwhile.
 */
async function cordon(kube: KubeClient, node: NodeLike): Promise<void> {
  if (node.spec?.unschedulable) return;
  await kube.patch(nodePath(node.metadata.name), 'merge', { metadata: { uid: node.metadata.uid }, spec: { unschedulable: true } });
}

/**
 * One policy/v1 Eviction for exactly the pod listed (UID precondition). The API server checks
 * the pod's PodDisruptionBudgets: 429 = the budget allows no disruption now (machine-controller:
 * "PDB prevents eviction, return and make the controller retry later"); a 403 that is not an
 * RBAC denial is a budget the server cannot honour (e.g. negative disruptionsAllowed), also
 * waited out. 404/409: the pod is gone or replaced, nothing to do.
 */
async function evictPod(kube: KubeClient, pod: PodLike): Promise<EvictionResult> {
  const { namespace, name, uid } = pod.metadata;
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/eviction`;
  let res;
  try {
    res = await kube.send('POST', path, {
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace }, deleteOptions: { preconditions: { uid } } },
    });
  } catch (e) {
    if (e instanceof NetworkError) return { pod, kind: 'error', message: e.message };
    throw e;
  }
  if (res.status >= 200 && res.status < 300) return { pod, kind: 'evicted' };
  if (res.status === 404 || res.status === 409) return { pod, kind: 'gone' };
  const message = (typeof res.body?.message === 'string' && res.body.message) || res.statusText || `HTTP ${res.status}`;
  if (res.status === 429) return { pod, kind: 'blocked', message };
  if (res.status === 403) {
    if (/ cannot \S+ resource /.test(message)) {
      const reason = (typeof res.body?.reason === 'string' && res.body.reason) || 'Forbidden';
      return { pod, kind: 'refused', error: new ApiError(403, reason, message, 'POST', path) };
    }
    return { pod, kind: 'blocked', message };
  }
  return { pod, kind: 'error', message: `${res.status} ${message}` };
}

/**
 * After the VM is gone: delete the Machine's Nodes, each with its UID as precondition (a Node
 * re-registered under the name meanwhile is not ours to delete: 409, left alone). 404: gone.
 * Refusals and transient failures are thrown.
 */
export async function deleteNodes(kube: KubeClient, nodes: NodeLike[]): Promise<string[]> {
  const deleted: string[] = [];
  for (const n of nodes) {
    try {
      if (await kube.delete(nodePath(n.metadata.name), 'Background', n.metadata.uid)) deleted.push(n.metadata.name);
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) continue;
      throw e;
    }
  }
  return deleted;
}
