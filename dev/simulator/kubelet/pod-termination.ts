/**
 * The kubelet's part of a pod deletion, for the Nodes our simulated VMs register (providerID
 * `kubevirt://…`): there is no kubelet on the test control plane, so a pod bound to such a
 * Node that is being deleted (an eviction, a drain, `kubectl delete`) would stay Terminating
 * forever.
 *
 * What the kubelet does (kubernetes v1.36 pkg/kubelet: pod_workers.go, kubelet.go
 * SyncTerminatingPod, status/status_manager.go syncPod/canBeDeleted): the API server sets
 * `deletionTimestamp` (= the request time + the grace period) and `deletionGracePeriodSeconds`;
 * the kubelet sees the update, stops the containers (SIGTERM, SIGKILL once the grace period has
 * passed), and when they are stopped and the volumes cleaned up, its status manager sends the
 * final DELETE with `gracePeriodSeconds: 0` and the pod's UID as precondition, which removes the
 * object. Here the containers take their whole grace period (`deletionGracePeriodSeconds`, from
 * when the deletion is seen). Pods on any other Node (or unbound) are left to whoever runs them.
 */
import { objectPath, type Kind } from '../../../shared/kube/paths.js';
import type { Lifetime } from '../lifetime.js';
import type { KubeApi } from '../kube/api.js';
import { isNotFound, statusOf } from '../kube/api.js';
import type { Informer } from '../kube/informer.js';
import type { StatsRecorder } from '../stats.js';

export const POD: Kind = { group: '', version: 'v1', plural: 'pods', kind: 'Pod' };
export const NODE: Kind = { group: '', version: 'v1', plural: 'nodes', kind: 'Node' };
/** The providerID prefix of the Nodes the simulated VMs' kubelets register (KubeVirt's cloud provider scheme). */
export const SIMULATED_PROVIDER_PREFIX = 'kubevirt://';
const RETRY_MS = 1_000;

export class PodTermination {
  /** Pending final DELETEs by pod UID. */
  private readonly pending = new Map<string, () => void>();

  constructor(
    private readonly pods: Informer,
    private readonly nodes: Informer,
    private readonly api: KubeApi,
    private readonly life: Lifetime,
    private readonly stats: StatsRecorder,
    private readonly log: (line: string) => void,
  ) {
    pods.on((type, pod) => {
      if (type === 'DELETED') return this.cancel(pod.metadata.uid);
      this.consider(pod);
    });
    // A Node registered (or its providerID set) after a pod on it began terminating.
    nodes.on((type, node) => {
      if (type === 'DELETED') return;
      for (const pod of this.pods.list()) if (pod.spec?.nodeName === node.metadata.name) this.consider(pod);
    });
  }

  private simulatedNode(name: string | undefined): boolean {
    if (!name) return false;
    const node = this.nodes.get('', name);
    return typeof node?.spec?.providerID === 'string' && node.spec.providerID.startsWith(SIMULATED_PROVIDER_PREFIX);
  }

  private consider(pod: any): void {
    const uid: string = pod.metadata.uid;
    if (!pod.metadata.deletionTimestamp || this.pending.has(uid) || !this.simulatedNode(pod.spec?.nodeName)) return;
    // As the kubelet: the grace period runs from when it sees the deletion (deletionTimestamp
    // has whole seconds only, and a kubelet that restarts begins the kill again).
    const graceMs = (pod.metadata.deletionGracePeriodSeconds ?? 0) * 1000;
    const cancel = this.life.after(graceMs, () => {
      this.pending.delete(uid);
      this.life.run(`finish pod ${pod.metadata.namespace}/${pod.metadata.name}`, this.finish(pod), (e) => {
        // A failed DELETE is tried again, from the cache's current state of the pod.
        this.log(String(e));
        this.life.after(RETRY_MS, () => {
          const current = this.pods.get(pod.metadata.namespace, pod.metadata.name);
          if (current) this.consider(current);
        });
      });
    });
    this.pending.set(uid, cancel);
  }

  private cancel(uid: string): void {
    this.pending.get(uid)?.();
    this.pending.delete(uid);
  }

  /** The status manager's final DELETE: grace period 0, exactly this pod (UID precondition). */
  private async finish(pod: any): Promise<void> {
    const { namespace, name, uid } = pod.metadata;
    try {
      await this.api.request('DELETE', objectPath(POD, namespace, name), {
        body: { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid } },
      });
      this.stats.inc('objectsDeleted');
      this.log(`pod ${namespace}/${name} on node ${pod.spec.nodeName}: containers stopped, deleted`);
    } catch (e) {
      // 404: already gone; 409: another pod holds the name now.
      if (isNotFound(e) || statusOf(e) === 409) return;
      throw e;
    }
  }
}
