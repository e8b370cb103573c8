/**
 * The node function under test as deployed: its ServiceAccount and RBAC from knative/node/,
 * follow-ups to a recording sink; Machines (holding our finalizer, as the machine function
 * leaves them) and Nodes (as a kubelet registers them) written by the admin.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import { HTTP } from 'cloudevents';
import { buildFollowUp, FollowUpType } from '../../../events/followup.js';
import { MACHINE_FINALIZER } from '../../../shared/constants.js';
import { adminKube, applyManifests, ensureNamespace, serviceAccountKubeconfig } from '../support/admin.js';
import { startFunction, type FunctionServer } from '../support/function-server.js';
import { apiServerEvent, type Operation } from '../support/apiserver-events.js';
import { freshNamespace, uniqueName } from '../support/kube.js';
import { startSink, type TestSink } from '../support/sink.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const FUNCTIONS_NAMESPACE = 'kubevirt-machine-functions';
export const MACHINES = (ns: string) => `/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machines`;
export const NODE = (name: string) => `/api/v1/nodes/${name}`;

export interface NodeEnv {
  fn: FunctionServer;
  sink: TestSink;
  ns: string;
  /** Nodes created by the tests (cluster-scoped: removed after the suite). */
  nodes: string[];
}

export function nodeSuite(title: string): { test: ReturnType<typeof suite>; ctx: NodeEnv } {
  const test = suite(title);
  const ctx = { nodes: [] as string[] } as NodeEnv;
  test.before(async () => {
    await ensureNamespace(FUNCTIONS_NAMESPACE);
    await applyManifests(readFileSync(path.join(root, 'knative', 'node', 'rbac.yaml'), 'utf8'));
    const dir = mkdtempSync(path.join(tmpdir(), 'kmf-node-'));
    const kubeconfig = path.join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, await serviceAccountKubeconfig(FUNCTIONS_NAMESPACE, 'node-function'), { mode: 0o600 });
    ctx.sink = await startSink();
    ctx.fn = await startFunction('node', { KUBECONFIG: kubeconfig, K_SINK: ctx.sink.url });
    ctx.ns = await freshNamespace('node-fn');
  });
  test.after(async () => {
    await ctx.fn?.stop();
    await ctx.sink?.close();
    for (const n of ctx.nodes) await adminKube().delete(NODE(n));
  });
  return { test, ctx };
}

/** A Machine as the machine and vmi functions leave it: our finalizer, optionally providerID and addresses. */
export async function createMachine(
  ns: string,
  o: {
    name?: string;
    providerID?: string;
    addresses?: string[];
    finalizer?: boolean;
    cloudProvider?: string;
    spec?: Record<string, unknown>;
  } = {},
): Promise<any> {
  const name = o.name ?? uniqueName('m');
  const m = await adminKube().create(MACHINES(ns), {
    apiVersion: 'cluster.k8s.io/v1alpha1',
    kind: 'Machine',
    metadata: { name, namespace: ns, ...(o.finalizer === false ? {} : { finalizers: [MACHINE_FINALIZER] }) },
    spec: {
      providerSpec: { value: { cloudProvider: o.cloudProvider ?? 'kubevirt', cloudProviderSpec: {}, operatingSystem: 'ubuntu' } },
      ...(o.providerID ? { providerID: o.providerID } : {}),
      ...(o.spec ?? {}),
    },
  });
  if (!o.addresses) return m;
  return adminKube().patch(`${MACHINES(ns)}/${name}`, 'merge', {
    status: { addresses: o.addresses.map((address) => ({ type: 'InternalIP', address })) },
  });
}

/** A Node as a kubelet registers it, then its status (a subresource for Nodes). */
export async function createNode(
  ctx: NodeEnv,
  o: {
    name?: string;
    providerID?: string;
    address?: string;
    ready?: 'True' | 'False' | 'Unknown';
    labels?: Record<string, string>;
    taints?: unknown[];
  },
): Promise<any> {
  const name = o.name ?? uniqueName('node');
  await adminKube().create('/api/v1/nodes', {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(o.labels ?? {}) } },
    spec: { ...(o.providerID ? { providerID: o.providerID } : {}), ...(o.taints ? { taints: o.taints } : {}) },
  });
  ctx.nodes.push(name);
  return setNodeStatus(name, { address: o.address, ready: o.ready ?? 'True' });
}

/** Writes a Node's status as the kubelet does (addresses, nodeInfo, the Ready condition). */
export async function setNodeStatus(name: string, o: { address?: string; ready: 'True' | 'False' | 'Unknown'; at?: string }): Promise<any> {
  const at = o.at ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return adminKube().patch(`${NODE(name)}/status`, 'merge', {
    status: {
      ...(o.address
        ? {
            addresses: [
              { type: 'InternalIP', address: o.address },
              { type: 'Hostname', address: name },
            ],
          }
        : {}),
      nodeInfo: { kubeletVersion: 'v1.36.3' },
      conditions: [
        {
          type: 'Ready',
          status: o.ready,
          reason: o.ready === 'True' ? 'KubeletReady' : 'KubeletNotReady',
          message: o.ready === 'True' ? 'kubelet is posting ready status' : 'container runtime network not ready',
          lastHeartbeatTime: at,
          lastTransitionTime: at,
        },
      ],
    },
  });
}

/** The ApiServerSource event of a Node (binary, Resource mode). */
export const nodeEvent = (op: Operation, node: any) =>
  apiServerEvent({ mode: 'Resource', operation: op, structured: false }, { apiVersion: 'v1', kind: 'Node', ...node });

/** The vmi function's `machine.ready` follow-up for `m`, as the Broker delivers it (binary). */
export function machineReadyEvent(m: any): { headers: Record<string, string>; body: string } {
  const ce = buildFollowUp(
    FollowUpType.ready,
    {
      machine: { namespace: m.metadata.namespace, name: m.metadata.name, uid: m.metadata.uid },
      providerID: m.spec.providerID ?? '',
      addresses: m.status?.addresses ?? [],
    },
    { function: 'vmi' },
  );
  // Binary mode, as the sink (and a Broker) sends it.
  const msg = HTTP.binary(ce);
  return { headers: msg.headers as Record<string, string>, body: msg.body as string };
}

export const getMachine = (m: any) => adminKube().get(`${MACHINES(m.metadata.namespace)}/${m.metadata.name}`);
export const getNode = (name: string) => adminKube().get(NODE(name));
export const readyOf = (m: any) => (m.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
