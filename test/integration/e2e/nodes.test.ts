/**
 * Issue 16 items 3 and 5 end to end: on the stack `npm start` runs (every function under its
 * knative/ ServiceAccount, the real ApiServerSource adapters — the Node source among them — the
 * bridge and the simulator playing the guests' kubelets), every Machine of the example
 * MachineDeployment gets its Node: `status.nodeRef` (what `kubectl get machines` shows),
 * kubelet version, the mirrored Ready condition; the Node gets the owned-by label and the
 * Machine's spec labels, annotations and taints. A Node set NotReady by hand shows on its Machine;
 * scaled to 0, the Machines' deletions remove their Nodes.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { startStack, type Stack } from '../../../dev/stack/index.js';
import type { KubeClient } from '../../../shared/kube/rest.js';
import { freshNamespace } from '../support/kube.js';
import { describe, machineDeployment, machinesOf, paths, scaleDeployment, until, type Obj } from './md-support.js';

const test = suite('end to end: Machines and their Nodes');
let stack: Stack;
let kube: KubeClient;
const nodes = new Set<string>();

test.before(async () => {
  stack = await startStack({
    kubeconfig: readFileSync(process.env.KUBECONFIG!, 'utf8'),
    simulatorTimings: { dvStepMs: 20, importChunkMs: 20, vmiStepMs: 20, restartBackoffMs: 40 },
    backoffScale: 0.05,
    pingIntervalMs: 3_600_000,
  });
  kube = stack.admin;
});
test.after(async () => {
  await stack?.stop();
  // Nodes are cluster-scoped: whatever a failed test left behind goes.
  for (const n of nodes) await kube?.delete(`/api/v1/nodes/${n}`);
});

const readyOf = (o: Obj) => (o?.status?.conditions ?? []).find((c: Obj) => c.type === 'Ready');

test('the example MachineDeployment: every Machine linked to its Ready Node, the Node labelled and tainted from the Machine; NotReady by hand shows and lowers readyReplicas', async () => {
  const ns = await freshNamespace('md-nodes');
  const md = machineDeployment(stack.imageUrl, ns, 'workers', { replicas: 2 });
  md.spec.template.spec.metadata = { labels: { 'node-pool': 'workers' }, annotations: { 'example.com/owner': 'e2e' } };
  md.spec.template.spec.taints = [{ key: 'dedicated', value: 'workers', effect: 'NoSchedule' }];
  await kube.create(paths.mds(ns), md);

  let machines: Obj[] = [];
  await until('2 Machines, each with a Ready Node', async () => {
    machines = await machinesOf(kube, ns);
    for (const m of machines) if (m.status?.nodeRef?.name) nodes.add(m.status.nodeRef.name);
    const ok = machines.length === 2 && machines.every((m) => m.status?.nodeRef?.name && readyOf(m)?.status === 'True');
    return [ok, `${describe(machines)} | nodeRefs ${machines.map((m) => `${m.status?.nodeRef?.name}:${readyOf(m)?.status}`)}`];
  });
  for (const m of machines) {
    const node = await kube.get(`/api/v1/nodes/${m.status.nodeRef.name}`);
    assert.equal(m.status.nodeRef, { apiVersion: 'v1', kind: 'Node', name: node.metadata.name, uid: node.metadata.uid });
    assert.is(node.spec.providerID.toLowerCase(), m.spec.providerID.toLowerCase());
    assert.is(m.status.versions.kubelet, node.status.nodeInfo.kubeletVersion);
    assert.is(readyOf(m).lastTransitionTime, readyOf(node).lastTransitionTime);
    assert.is(node.metadata.labels['machine-controller/owned-by'], m.metadata.uid);
    await until(`Node ${node.metadata.name} carries the Machine's spec metadata`, async () => {
      const n = await kube.get(`/api/v1/nodes/${node.metadata.name}`);
      const ok =
        n.metadata.labels['node-pool'] === 'workers' &&
        n.metadata.annotations['example.com/owner'] === 'e2e' &&
        n.metadata.annotations['cluster.k8s.io/machine'] === `${ns}/${m.metadata.name}` &&
        (n.spec.taints ?? []).some((t: Obj) => t.key === 'dedicated' && t.value === 'workers' && t.effect === 'NoSchedule');
      return [ok, JSON.stringify({ labels: n.metadata.labels, annotations: n.metadata.annotations, taints: n.spec.taints })];
    });
  }
  // `kubectl get machines` shows the Node: the CRD's printer column reads status.nodeRef.name.
  const table = await kube.request('GET', paths.machines(ns), { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
  const col = table.columnDefinitions.findIndex((c: Obj) => c.name === 'Node');
  assert.ok(col >= 0, 'a Node column');
  assert.equal(table.rows.map((r: Obj) => r.cells[col]).sort(), machines.map((m) => m.status.nodeRef.name).sort());

  // The MachineSet counts Machines ready by their Nodes (machine-controller's readyReplicas).
  const readyReplicas = async () => {
    const sets = await kube.request('GET', `/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machinesets`);
    return sets.items.map((s: Obj) => s.status?.readyReplicas ?? 0);
  };
  await until('the MachineSet counts 2 ready', async () => {
    const r = await readyReplicas();
    return [r.length === 1 && r[0] === 2, JSON.stringify(r)];
  });

  // A Node set NotReady by hand (as the node lifecycle controller would): its Machine follows.
  const victim = machines[0]!;
  const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await kube.patch(`/api/v1/nodes/${victim.status.nodeRef.name}/status`, 'merge', {
    status: {
      conditions: [
        { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'by hand', lastHeartbeatTime: at, lastTransitionTime: at },
      ],
    },
  });
  await until('the Machine mirrors NotReady', async () => {
    const m = await kube.get(paths.machine(ns, victim.metadata.name));
    return [readyOf(m)?.status === 'False' && readyOf(m)?.message === 'by hand', JSON.stringify(readyOf(m))];
  });
  await until('the MachineSet counts 1 ready', async () => {
    const r = await readyReplicas();
    return [r.length === 1 && r[0] === 1, JSON.stringify(r)];
  });

  // Scaled to 0: each deletion drains the Node and deletes it after the VM (the machine function).
  await scaleDeployment(kube, ns, 'workers', 0);
  await until('no Machines left', async () => [(await machinesOf(kube, ns)).length === 0, describe(await machinesOf(kube, ns))]);
  for (const m of machines) {
    const left = await kube.get(`/api/v1/nodes/${m.status.nodeRef.name}`);
    assert.not.ok(left, `Node ${m.status.nodeRef.name} deleted with its Machine`);
  }
});

test.run();
