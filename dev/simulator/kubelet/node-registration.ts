/**
 * The kubelet inside each running VM, simulated: it registers the guest as a Node of the
 * Machines' cluster and reports whether it is Ready, which is what the node function follows.
 * (Its part in pod deletions on those Nodes is pod-termination.ts.)
 *
 * What a real kubelet does (kubernetes pkg/kubelet/kubelet_node_status.go): on start it
 * registers its Node (`registerWithAPIServer`: POST the Node, named after the hostname, with
 * `spec.providerID` from `--provider-id` — here `kubevirt://<vm>`, what the KubeVirt cloud
 * provider sets — and the well-known hostname/os/arch labels), then reports `status`:
 * addresses (InternalIP, Hostname), `nodeInfo.kubeletVersion`, and the `Ready` condition
 * (`KubeletReady`, "kubelet is posting ready status"; setters in pkg/kubelet/nodestatus).
 * When the VM stops nothing reports any more: kube-controller-manager's node lifecycle
 * controller marks the Node `Ready=Unknown` (`NodeStatusUnknown`, "Kubelet stopped posting
 * node status.", shown as NotReady) after its grace period; here that happens at once when the
 * VMI stops, fails or goes away. Nodes are never deleted here: that is the machine function's
 * job once the Machine is gone (machine-controller deletes its Nodes).
 *
 * The same controller's taints follow (TaintNodesByCondition: the API server's admission puts
 * `node.kubernetes.io/not-ready:NoSchedule` on every new Node; the controller removes it once
 * the Node is Ready and puts `node.kubernetes.io/unreachable:NoSchedule` on an Unknown one).
 *
 * Simplifications: no heartbeats or Leases (no node lifecycle controller runs on the embedded
 * control plane, so a Node stays as last reported); the Node goes to the cluster the simulator
 * watches VMIs in (the Machines' and the infra cluster are one in `npm start`); a name is the
 * VM's, so two VMs of one name in different namespaces share a Node, as two hosts of one
 * hostname would clash.
 */
import type { KubeApi } from '../kube/api.js';
import { isNotFound, statusOf } from '../kube/api.js';
import { keyOf, type Informer } from '../kube/informer.js';
import type { Lifetime } from '../lifetime.js';
import { nowTimestamp } from '../time.js';
import { WorkQueue } from '../work-queue.js';

/** The kubelet version the simulated guests report (the embedded control plane's, see dev/cluster). */
export const DEFAULT_KUBELET_VERSION = 'v1.36.3';
const MANAGER = 'kubelet';

type Ready =
  { status: 'True'; reason: 'KubeletReady'; message: string } | { status: 'Unknown'; reason: 'NodeStatusUnknown'; message: string };
const READY: Ready = { status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' };
const GONE: Ready = { status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' };

export class NodeRegistration {
  private readonly queue: WorkQueue;

  constructor(
    private readonly vmis: Informer,
    private readonly api: KubeApi,
    life: Lifetime,
    private readonly kubeletVersion: string,
    private readonly log: (line: string) => void,
  ) {
    this.queue = new WorkQueue(
      'kubelet',
      (k) => this.reconcile(k),
      life,
      (k, e) => log(`kubelet ${k}: ${e instanceof Error ? e.message : String(e)}`),
    );
    vmis.on((_type, vmi) => this.queue.add(keyOf(vmi.metadata.namespace, vmi.metadata.name)));
  }

  start(): void {
    this.queue.start();
  }

  /** One VMI: its Node registered and Ready while it runs, Unknown once it does not. */
  private async reconcile(key: string): Promise<void> {
    const [ns, name] = key.split('/') as [string, string];
    const vmi = this.vmis.get(ns, name);
    const running = vmi && !vmi.metadata.deletionTimestamp && vmi.status?.phase === 'Running';
    const ips: string[] = running ? (vmi.status?.interfaces ?? []).map((i: any) => i.ipAddress).filter(Boolean) : [];
    let node = await this.get(name);
    if (running && ips.length > 0) {
      node ??= await this.register(name);
      await this.report(node, READY, ips);
    } else if (node && readyOf(node)?.status === 'True') {
      await this.report(node, GONE);
    }
  }

  private async get(name: string): Promise<any | undefined> {
    try {
      return await this.api.request('GET', `/api/v1/nodes/${name}`);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  private async register(name: string): Promise<any> {
    try {
      const node = await this.api.request('POST', '/api/v1/nodes', {
        query: { fieldManager: MANAGER },
        body: {
          apiVersion: 'v1',
          kind: 'Node',
          metadata: {
            name,
            labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' },
          },
          spec: { providerID: `kubevirt://${name}` },
        },
      });
      this.log(`Node ${name}: registered`);
      return node;
    } catch (e) {
      if (statusOf(e) === 409) return this.get(name); // registered meanwhile
      throw e;
    }
  }

  /** Writes the Node's status when what it would say differs (no heartbeat: see the header). */
  private async report(node: any, ready: Ready, ips?: string[]): Promise<void> {
    const name: string = node.metadata.name;
    const cur = readyOf(node);
    const addresses = ips ? [...ips.map((address) => ({ type: 'InternalIP', address })), { type: 'Hostname', address: name }] : undefined;
    const sameAddresses = !addresses || JSON.stringify(node.status?.addresses ?? []) === JSON.stringify(addresses);
    const sameVersion = node.status?.nodeInfo?.kubeletVersion === this.kubeletVersion;
    if (cur?.status === ready.status && cur.reason === ready.reason && sameAddresses && sameVersion) return;
    const now = nowTimestamp();
    const condition = {
      type: 'Ready',
      ...ready,
      lastHeartbeatTime: now,
      lastTransitionTime: cur?.status === ready.status ? cur.lastTransitionTime : now,
    };
    await this.api.request('PATCH', `/api/v1/nodes/${name}/status`, {
      contentType: 'application/merge-patch+json',
      query: { fieldManager: MANAGER },
      body: {
        metadata: { uid: node.metadata.uid },
        status: {
          conditions: [condition],
          nodeInfo: { kubeletVersion: this.kubeletVersion },
          ...(addresses ? { addresses } : {}),
        },
      },
    });
    this.log(`Node ${name}: Ready=${ready.status}`);
    await this.taint(name, ready);
  }

  /** The node lifecycle controller's NoSchedule taint for the Ready condition (see the header). */
  private async taint(name: string, ready: Ready): Promise<void> {
    const node = await this.get(name);
    if (!node) return;
    const have: any[] = node.spec?.taints ?? [];
    const want = ready.status === 'True' ? undefined : UNREACHABLE;
    const kept = have.filter((t) => !(CONDITION_TAINTS.has(t.key) && t.effect === 'NoSchedule'));
    const next = want ? [...kept, { ...want, timeAdded: nowTimestamp() }] : kept;
    const same = next.length === have.length && next.every((t) => have.some((h) => h.key === t.key && h.effect === t.effect));
    if (same) return;
    await this.api.request('PATCH', `/api/v1/nodes/${name}`, {
      contentType: 'application/merge-patch+json',
      query: { fieldManager: 'node-lifecycle-controller' },
      body: { metadata: { uid: node.metadata.uid, resourceVersion: node.metadata.resourceVersion }, spec: { taints: next } },
    });
  }
}

const UNREACHABLE = { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' };
const CONDITION_TAINTS = new Set(['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']);

const readyOf = (node: any): { status: string; reason?: string; lastTransitionTime?: string } | undefined =>
  (node.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
