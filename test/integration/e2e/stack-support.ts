/**
 * Helpers for the end-to-end tests of the local stack (dev/stack) and of `npm start`:
 * the test stack, Machines from the README's example, resync ticks, and the process tree
 * of a spawned CLI read from /proc.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import path from 'node:path';
import { startStack, exampleManifest, INFRA_NAMESPACE, root, type Stack } from '../../../dev/stack/index.js';
import { serviceAccountKubeconfig } from '../../../dev/stack/rbac.js';
import type { Bridge, DeadLetter } from '../../../dev/bridge/index.js';
import type { KubeClient } from '../../../shared/kube/rest.js';
import { LABEL_MACHINE_UID, LABEL_MANAGED_BY, MANAGED_BY_VALUE } from '../../../shared/constants.js';

export { INFRA_NAMESPACE };
export const MACHINES = '/apis/cluster.k8s.io/v1alpha1';
export const VMS = `/apis/kubevirt.io/v1/namespaces/${INFRA_NAMESPACE}/virtualmachines`;

/** One stack per test file, with test timings; stack log lines are kept (the last 400) for failure messages. */
export async function startTestStack(): Promise<{ stack: Stack; logTail: () => string; logLines: () => string[] }> {
  const lines: string[] = [];
  const keep = (l: string) => {
    lines.push(l);
    if (lines.length > 400) lines.splice(0, lines.length - 400);
  };
  const stack = await startStack({
    kubeconfig: readFileSync(process.env.KUBECONFIG!, 'utf8'),
    simulatorTimings: { dvStepMs: 20, importChunkMs: 20, vmiStepMs: 20, restartBackoffMs: 40 },
    backoffScale: 0.05,
    // Resync only when a test ticks it.
    pingIntervalMs: 3_600_000,
    log: keep,
  });
  return { stack, logTail: () => lines.slice(-60).join('\n'), logLines: () => [...lines] };
}

/** The Machine spec of the README's example MachineDeployment (its template), image on the stack's server. */
export function exampleMachineSpec(imageUrl: string): Record<string, unknown> {
  const md = parseYaml(exampleManifest(imageUrl));
  return md.spec.template.spec;
}

export interface MachineObj {
  metadata: { name: string; namespace: string; uid: string; finalizers?: string[]; resourceVersion: string };
  status?: { providerStatus?: { phase?: string }; addresses?: { address: string }[]; errorReason?: string };
}

export function createMachine(kube: KubeClient, namespace: string, name: string, spec: Record<string, unknown>): Promise<MachineObj> {
  return kube.create(`${MACHINES}/namespaces/${namespace}/machines`, {
    apiVersion: 'cluster.k8s.io/v1alpha1',
    kind: 'Machine',
    metadata: { name, namespace },
    spec: structuredClone(spec),
  });
}

export function isReady(m: MachineObj | undefined): boolean {
  return m?.status?.providerStatus?.phase === 'Ready' && !!m.status.addresses?.[0]?.address;
}

export async function machinesIn(kube: KubeClient, namespace: string): Promise<MachineObj[]> {
  return (await kube.request<{ items: MachineObj[] }>('GET', `${MACHINES}/namespaces/${namespace}/machines`)).items;
}

export interface VmObj {
  metadata: { name: string; uid: string; resourceVersion: string; labels?: Record<string, string>; deletionTimestamp?: string };
}

/** Our VirtualMachines in the infra namespace (by the managed-by label). */
export async function ourVms(kube: KubeClient): Promise<VmObj[]> {
  return (await kube.request<{ items: VmObj[] }>('GET', VMS, { query: { labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE}` } }))
    .items;
}

/** Machine UID → how many of our VMs carry it. */
export function vmsPerMachineUid(vms: VmObj[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const vm of vms) {
    const uid = vm.metadata.labels?.[LABEL_MACHINE_UID] ?? '';
    out.set(uid, (out.get(uid) ?? 0) + 1);
  }
  return out;
}

/** The Trigger that routes to `fn`. */
export function triggerOf(bridge: Bridge, fn: string): string {
  const r = bridge.routes.find((t) => t.subscriber === fn);
  if (!r) throw new Error(`no Trigger for ${fn}`);
  return r.name;
}

/** Dead letters whose event (attributes or data) mentions any of `needles`. */
export function deadLettersMentioning(letters: DeadLetter[], needles: string[]): DeadLetter[] {
  return letters.filter((dl) => {
    const text = JSON.stringify(dl.event.attributes) + (dl.event.data?.toString('utf8') ?? '');
    return needles.some((n) => text.includes(n));
  });
}

/**
 * A PingSource tick as the mt-ping adapter sends it for knative/resync/pingsource.yaml, to the
 * Broker ingress (routed by the resync Trigger) or straight to the resync function (answered
 * once the pass is done). Returns the HTTP status.
 */
export async function resyncTick(url: string): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'ce-specversion': '1.0',
      'ce-id': randomUUID(),
      'ce-source': '/apis/v1/namespaces/kubevirt-machine-functions/pingsources/resync',
      'ce-type': 'dev.knative.sources.ping',
      'ce-time': new Date().toISOString(),
      'content-type': 'application/json',
    },
    body: JSON.stringify({ reason: 'periodic resync' }),
  });
  await res.arrayBuffer();
  return res.status;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---- processes (/proc) -------------------------------------------------------------------

export interface Proc {
  pid: number;
  ppid: number;
  /** Process group. */
  pgrp: number;
  /** Start time in clock ticks since boot: tells a reused PID from the original. */
  start: string;
  state: string;
  cmdline: string;
}

function readProc(pid: number): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces and parentheses: fields start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    return { pid, ppid: Number(f[1]), pgrp: Number(f[2]), start: f[19]!, state: f[0]!, cmdline };
  } catch {
    return undefined;
  }
}

export function allProcs(): Proc[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readProc(Number(d)))
    .filter((p): p is Proc => p !== undefined);
}

/** Every descendant of `root` (children, grandchildren… by ppid), detached process groups included. */
export function descendants(root: number): Proc[] {
  const procs = allProcs();
  const out: Proc[] = [];
  const queue = [root];
  while (queue.length) {
    const parent = queue.shift()!;
    for (const p of procs) {
      if (p.ppid === parent) {
        out.push(p);
        queue.push(p.pid);
      }
    }
  }
  return out;
}

/** Still running: same PID and start time, not a zombie. */
export function stillAlive(p: Proc): boolean {
  const now = readProc(p.pid);
  return !!now && now.start === p.start && now.state !== 'Z' && now.state !== 'X';
}

// ---- the CLI's table -----------------------------------------------------------------------

export interface TableRow {
  machine: string;
  phase: string;
  import: string;
  vmi: string;
  ip: string;
  /** The Node (`status.nodeRef.name`), `<name> (NotReady)` while not Ready, `-` without. */
  node: string;
}

/** The last complete table printed (cli/table.ts: header line, rows, blank line). */
export function lastTable(stdout: string): TableRow[] | undefined {
  const lines = stdout.split('\n');
  const head = lines.findLastIndex((l) => l.startsWith('MACHINE '));
  if (head < 0) return undefined;
  const end = lines.indexOf('', head);
  if (end < 0) return undefined; // still being written
  return lines.slice(head + 1, end).map((l) => {
    const [machine = '', phase = '', imp = '', vmi = '', ip = '', node = ''] = l.split(/\s{2,}/);
    return { machine, phase, import: imp, vmi, ip, node };
  });
}

// ---- infra namespaces and identities (issue 16) ------------------------------------------

/** A Machine spec in the flat 2019 schema (the seed's), naming its infra `namespace` and optionally its own infra kubeconfig. */
export function flatMachineSpec(imageUrl: string, infraNamespace: string, kubeconfig?: string): Record<string, unknown> {
  const file = path.join(root, 'test', 'fixtures', 'flat-2019', 'kubevirt-machinedeployment-2019-sourceurl.yaml');
  const spec = parseYaml(readFileSync(file, 'utf8')).spec.template.spec;
  const value = spec.providerSpec.value;
  value.sshPublicKeys = ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleExampleExampleExampleExampleExa test'];
  value.cloudProviderSpec.sourceURL = imageUrl;
  value.cloudProviderSpec.namespace = infraNamespace;
  if (kubeconfig) value.cloudProviderSpec.config = { value: Buffer.from(kubeconfig).toString('base64') };
  else delete value.cloudProviderSpec.config;
  return spec;
}

/** A binding of ClusterRole `role` to ServiceAccount `sa`: a RoleBinding in `namespace`, else a ClusterRoleBinding. */
const rbacBinding = (name: string, role: string, sa: { name: string; namespace: string }, namespace?: string) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: namespace ? 'RoleBinding' : 'ClusterRoleBinding',
  metadata: { name, ...(namespace && { namespace }) },
  subjects: [{ kind: 'ServiceAccount', ...sa }],
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
});

/**
 * A tenant's own infra identity on the cluster `kube` reaches: a ServiceAccount in `ns` with
 * knative/infra/machine-rbac.yaml's ClusterRoles (which must exist there) bound for it, as a
 * token kubeconfig — what a Machine's `auth.kubeconfig` carries.
 */
export async function tenantKubeconfig(kube: KubeClient, adminKubeconfig: string, ns: string): Promise<string> {
  const sa = { name: 'tenant-infra', namespace: ns };
  await kube.create(`/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: sa.name } });
  await kube.create(
    `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`,
    rbacBinding(sa.name, 'kubevirt-machine-functions-infra', sa, ns),
  );
  await kube.create(
    '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
    rbacBinding(`${sa.name}-${ns}`, 'kubevirt-machine-functions-infra-storage', sa),
  );
  return serviceAccountKubeconfig(kube, adminKubeconfig, ns, sa.name);
}

/** What an operator does for a new infra namespace: the machine function's infra rights there (knative/infra/machine-rbac.yaml's RoleBinding, moved). */
export async function bindMachineFunctionIn(kube: KubeClient, ns: string): Promise<void> {
  await kube.create(
    `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`,
    rbacBinding(
      'kubevirt-machine-functions-infra',
      'kubevirt-machine-functions-infra',
      { name: 'machine-function', namespace: 'kubevirt-machine-functions' },
      ns,
    ),
  );
}
