/**
 * Deletion drains the Machine's Node first and removes it after the VM (machine-controller's
 * deleteMachine order), against the real API server: its Eviction API decides what a
 * PodDisruptionBudget allows, the simulator plays the kubelet finishing evicted pods, and the
 * machine function runs under its knative/ RBAC. Nodes are created by hand, labelled as the node
 * function labels them (machine-controller/owned-by=<Machine UID>); no kubelet keeps them Ready
 * or NotReady but the test.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminKube, eventually, freshNamespace, testKubeconfig, uniqueName } from '../support/kube.js';
import { exampleProviderSpec, FUNCTIONS_NAMESPACE, machineObject, startMachineEnv, type MachineEnv } from '../support/machine-env.js';
import { applyManifests, serviceAccountKubeconfig } from '../support/admin.js';
import { startFunction } from '../support/function-server.js';
import { post, resourceEvent } from '../support/apiserver-events.js';
import { startSimulator, type Simulator } from '../../../dev/simulator/index.js';
import { MACHINE_FINALIZER } from '../../../shared/constants.js';
import { FollowUpType } from '../../../events/followup.js';

const test = suite('machine function: deletion drains the Node first, deletes it after the VM');
const ctx = {} as { env: MachineEnv; short: MachineEnv; ns: string; sim: Simulator; spare: string };
const SHORT_BOUND_S = 4;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

test.before(async () => {
  ctx.env = await startMachineEnv();
  // The same deployment with machine-controller's skip-eviction-after shortened to seconds.
  ctx.short = await startMachineEnv({ infraNamespace: ctx.env.infraNamespace, extraEnv: { SKIP_EVICTION_AFTER: `${SHORT_BOUND_S}s` } });
  ctx.ns = await freshNamespace('drain', { waitForDefaultServiceAccount: true });
  ctx.sim = await startSimulator({
    kubeconfig: testKubeconfig(),
    namespaces: [ctx.env.infraNamespace],
    timings: { dvStepMs: 20, importChunkMs: 20, progressPollMs: 20, vmiStepMs: 20, watchRetryMs: 50 },
  });
  // Somewhere for evicted pods to go: machine-controller drains only when another Node is
  // schedulable (or another Machine has no Node yet).
  ctx.spare = uniqueName('spare');
  await createNode(ctx.spare, 'not-a-machine', 'True');
});

test.after(async () => {
  await ctx.sim?.stop();
  await ctx.env?.stop();
  await ctx.short?.stop();
  if (ctx.spare) await kube().delete(`/api/v1/nodes/${ctx.spare}`);
});

const kube = () => adminKube();
const machinePath = (name: string) => `/apis/cluster.k8s.io/v1alpha1/namespaces/${ctx.ns}/machines/${name}`;
const nodePath = (name: string) => `/api/v1/nodes/${name}`;
const podPath = (name: string) => `/api/v1/namespaces/${ctx.ns}/pods/${name}`;
const infra = (plural: string, name: string, group = 'kubevirt.io/v1') =>
  group === 'v1'
    ? `/api/v1/namespaces/${ctx.env.infraNamespace}/${plural}/${name}`
    : `/apis/${group}/namespaces/${ctx.env.infraNamespace}/${plural}/${name}`;

/** A provisioned Machine: its VM exists, the simulator runs it. */
async function provisionedMachine(prefix: string): Promise<any> {
  const name = uniqueName(prefix);
  const value = exampleProviderSpec('kubevirt-machinedeployment.yaml', {
    kubeconfigB64: ctx.env.infraKubeconfigB64,
    kubeconfigRaw: ctx.env.saKubeconfig,
    imageUrl: ctx.env.imageUrl,
  }).value;
  const m = await kube().create(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ctx.ns}/machines`, machineObject(name, ctx.ns, value));
  assert.is(await post(ctx.env.fn.url, resourceEvent('add', m)), 200);
  assert.ok(await kube().get(infra('virtualmachines', name)), 'VM created');
  await eventually('DataVolume created by the VM', async () => (await kube().get(infra('datavolumes', name, 'cdi.kubevirt.io/v1beta1'))) !== undefined); // prettier-ignore
  return kube().get(machinePath(name));
}

/** A Node as a kubelet registers it and the node function labels it; Ready as given. */
async function createNode(name: string, machineUid: string, ready: 'True' | 'False'): Promise<any> {
  await kube().create('/api/v1/nodes', {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'machine-controller/owned-by': machineUid } },
    spec: { providerID: `kubevirt://${name}` },
  });
  const now = new Date().toISOString();
  return kube().request('PATCH', `${nodePath(name)}/status`, {
    contentType: 'application/merge-patch+json',
    body: {
      status: {
        conditions: [
          {
            type: 'Ready',
            status: ready,
            reason: ready === 'True' ? 'KubeletReady' : 'KubeletNotReady',
            message: ready === 'True' ? 'kubelet is posting ready status' : 'container runtime is down',
            lastHeartbeatTime: now,
            lastTransitionTime: now,
          },
        ],
      },
    },
  });
}

/** A running, Ready pod bound to `node` (as the scheduler and kubelet would leave it). */
async function runningPod(name: string, node: string, opts: { labels?: Record<string, string>; metadata?: any } = {}): Promise<any> {
  await kube().create(`/api/v1/namespaces/${ctx.ns}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: opts.labels ?? {}, ...(opts.metadata ?? {}) },
    spec: { nodeName: node, terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] },
  });
  const now = new Date().toISOString();
  return kube().request('PATCH', `${podPath(name)}/status`, {
    contentType: 'application/merge-patch+json',
    body: { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] } },
  });
}

async function guardedByBudget(name: string, app: string): Promise<any> {
  return kube().create(`/apis/policy/v1/namespaces/${ctx.ns}/poddisruptionbudgets`, {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name },
    spec: { minAvailable: 1, selector: { matchLabels: { app } } },
  });
}

/** Redelivers the Machine's update event (as Knative's retry would) until it is acknowledged. */
async function deliverUntilDone(fnUrl: string, name: string, timeoutMs = 30_000): Promise<void> {
  await eventually(
    `deletion of ${name} completes`,
    async () => {
      const current = await kube().get(machinePath(name));
      if (!current) return true;
      return (await post(fnUrl, resourceEvent('update', current))) === 200;
    },
    { timeoutMs, intervalMs: 300 },
  );
}

async function assertAllGone(m: any, node: string): Promise<void> {
  const name = m.metadata.name;
  assert.not.ok(await kube().get(machinePath(name)), 'Machine gone: finalizer released');
  assert.not.ok(await kube().get(infra('virtualmachines', name)), 'VM gone');
  assert.not.ok(await kube().get(infra('datavolumes', name, 'cdi.kubevirt.io/v1beta1')), 'DataVolume gone');
  const secrets = await kube().request('GET', `/api/v1/namespaces/${ctx.env.infraNamespace}/secrets`, {
    query: { labelSelector: `kubevirt-machine-functions.io/machine-uid=${m.metadata.uid}` },
  });
  assert.is(secrets.items.length, 0, 'userdata Secret gone');
  assert.not.ok(await kube().get(nodePath(node)), 'Node deleted');
}

test('a PodDisruptionBudget holds the VM: the Node is cordoned, the VM stays, shown on the Machine; once the budget allows, pods are evicted and finished, then VM and Node go', async () => {
  const m = await provisionedMachine('pdb');
  const name = m.metadata.name;
  const node = uniqueName('node');
  await createNode(node, m.metadata.uid, 'True');
  await runningPod('guarded', node, { labels: { app: 'guarded' } });
  await guardedByBudget('guarded', 'guarded');

  await kube().delete(machinePath(name));
  let current = await kube().get(machinePath(name));
  assert.is(await post(ctx.env.fn.url, resourceEvent('update', current)), 503, 'waits (Knative redelivers) while the budget blocks');
  assert.is((await kube().get(nodePath(node))).spec.unschedulable, true, 'Node cordoned');
  const vm = await kube().get(infra('virtualmachines', name));
  assert.ok(vm && !vm.metadata.deletionTimestamp, 'VM stays, its deletion not even requested');
  assert.not.ok((await kube().get(podPath('guarded'))).metadata.deletionTimestamp, 'pod not evicted');
  current = await kube().get(machinePath(name));
  assert.ok(current.metadata.finalizers.includes(MACHINE_FINALIZER), 'finalizer held');
  assert.is(current.status.providerStatus.phase, 'Deleting');
  const waiting = current.status.providerStatus.waiting;
  assert.is(waiting.reason, 'DrainingNode');
  assert.match(waiting.message, `Node ${node} cordoned and draining`);
  assert.match(waiting.message, `PodDisruptionBudget refuses for now (${ctx.ns}/guarded: Cannot evict pod`);
  assert.match(waiting.message, /SKIP_EVICTION_AFTER 2h after the deletion/);

  // A retry in the same state writes nothing (status once per distinct state).
  assert.is(await post(ctx.env.fn.url, resourceEvent('update', current)), 503);
  assert.is((await kube().get(machinePath(name))).metadata.resourceVersion, current.metadata.resourceVersion, 'no rewrite on retry');

  // The disruption controller's verdict (none runs here): one disruption allowed now.
  const pdb = await kube().get(`/apis/policy/v1/namespaces/${ctx.ns}/poddisruptionbudgets/guarded`);
  await kube().request('PATCH', `/apis/policy/v1/namespaces/${ctx.ns}/poddisruptionbudgets/guarded/status`, {
    contentType: 'application/merge-patch+json',
    body: {
      status: { observedGeneration: pdb.metadata.generation, disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 },
    },
  });
  assert.is(await post(ctx.env.fn.url, resourceEvent('update', current)), 503, 'evicted; waits for the kubelet to stop it');
  const evicted = await kube().get(podPath('guarded'));
  assert.ok(evicted?.metadata.deletionTimestamp, 'pod evicted (terminating for its 1 s grace period)');
  assert.ok(await kube().get(infra('virtualmachines', name)), 'VM still there while the pod terminates');
  assert.match(
    (await kube().get(machinePath(name))).status.providerStatus.waiting.message,
    `evicted pod(s) still terminating (${ctx.ns}/guarded)`,
  );
  await eventually('the simulated kubelet finishes the evicted pod', async () => !(await kube().get(podPath('guarded'))), {
    timeoutMs: 10_000,
  });

  await deliverUntilDone(ctx.env.fn.url, name);
  await assertAllGone(m, node);
  const deleted = await ctx.env.sink.waitFor((e) => e.type === FollowUpType.deleted && e.subject === `${ctx.ns}/${name}`);
  assert.is(deleted.machineuid, m.metadata.uid);
});

test(`a budget that never allows: after SKIP_EVICTION_AFTER (${SHORT_BOUND_S}s here) the drain is skipped; VM, DataVolume, Secret and Node gone, finalizer released`, async () => {
  const m = await provisionedMachine('stuck');
  const name = m.metadata.name;
  const node = uniqueName('node');
  await createNode(node, m.metadata.uid, 'True');
  await runningPod('stuck', node, { labels: { app: 'stuck' } });
  await guardedByBudget('stuck', 'stuck');

  await kube().delete(machinePath(name));
  const deletedAt = Date.now();
  const current = await kube().get(machinePath(name));
  assert.is(await post(ctx.short.fn.url, resourceEvent('update', current)), 503);
  assert.is((await kube().get(nodePath(node))).spec.unschedulable, true, 'Node cordoned');
  assert.ok(await kube().get(infra('virtualmachines', name)), 'VM stays while the budget blocks');
  assert.match((await kube().get(machinePath(name))).status.providerStatus.waiting.message, /SKIP_EVICTION_AFTER 4s after the deletion/);

  await deliverUntilDone(ctx.short.fn.url, name);
  // Go's time.Since(deletion) > bound, deletionTimestamp having whole seconds: at least bound − 1 s.
  assert.ok(Date.now() - deletedAt >= (SHORT_BOUND_S - 1) * 1000, 'not before the bound');
  await assertAllGone(m, node);
  const pod = await kube().get(podPath('stuck'));
  assert.ok(pod && !pod.metadata.deletionTimestamp, 'the guarded pod was never evicted');
});

test('no budget, Node linked by status.nodeRef: pods evicted and finished, DaemonSet and mirror pods left alone, then VM and Node deleted', async () => {
  const m = await provisionedMachine('free');
  const name = m.metadata.name;
  const node = uniqueName('node');
  await createNode(node, m.metadata.uid, 'True');
  const ds = await kube().create(`/apis/apps/v1/namespaces/${ctx.ns}/daemonsets`, {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent' },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'a', image: 'registry.k8s.io/pause:3.10' }] } },
    },
  });
  await runningPod('web-1', node, { labels: { app: 'web' } });
  await runningPod('web-2', node, { labels: { app: 'web' } });
  await runningPod('agent-x', node, {
    labels: { app: 'agent' },
    metadata: { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: ds.metadata.uid, controller: true }] },
  });
  await runningPod('static-x', node, { metadata: { annotations: { 'kubernetes.io/config.mirror': 'a1b2c3' } } });
  // Linked as the node function links it (machine-controller's nodeRef shape): found by name, not by label list.
  const n = await kube().get(nodePath(node));
  await kube().patch(machinePath(name), 'merge', {
    status: { nodeRef: { apiVersion: 'v1', kind: 'Node', name: node, uid: n.metadata.uid } },
  });

  await kube().delete(machinePath(name));
  const current = await kube().get(machinePath(name));
  assert.is(await post(ctx.env.fn.url, resourceEvent('update', current)), 503, 'evictions issued; waits for the pods to stop');
  for (const p of ['web-1', 'web-2']) assert.ok((await kube().get(podPath(p)))?.metadata.deletionTimestamp, `${p} evicted`);
  assert.ok(await kube().get(infra('virtualmachines', name)), 'VM stays while evicted pods terminate');

  await deliverUntilDone(ctx.env.fn.url, name);
  for (const p of ['web-1', 'web-2']) assert.not.ok(await kube().get(podPath(p)), `${p} finished by the simulated kubelet`);
  for (const p of ['agent-x', 'static-x']) {
    const pod = await kube().get(podPath(p));
    assert.ok(pod && !pod.metadata.deletionTimestamp, `${p} never evicted`);
  }
  await assertAllGone(m, node);
});

test("an eviction the API server fails (a pod under two budgets): Warning ReconcilingError in machine-controller's words, once; the drain goes on when it can", async () => {
  const m = await provisionedMachine('twobudgets');
  const name = m.metadata.name;
  const node = uniqueName('node');
  await createNode(node, m.metadata.uid, 'True');
  await runningPod('double', node, { labels: { app: 'double' } });
  await guardedByBudget('double-a', 'double');
  await guardedByBudget('double-b', 'double');

  await kube().delete(machinePath(name));
  let current = await kube().get(machinePath(name));
  assert.is(await post(ctx.env.fn.url, resourceEvent('update', current)), 503);
  current = await kube().get(machinePath(name));
  assert.match(
    current.status.providerStatus.waiting.message,
    `1 eviction(s) failed (${ctx.ns}/double: 500 This pod has more than one PodDisruptionBudget`,
  );
  assert.ok(await kube().get(infra('virtualmachines', name)), 'VM stays');
  assert.is(await post(ctx.env.fn.url, resourceEvent('update', current)), 503, 'retried, same state');
  const warnings = async () =>
    (
      await kube().request('GET', `/api/v1/namespaces/${ctx.ns}/events`, {
        query: { fieldSelector: `involvedObject.uid=${m.metadata.uid}` },
      })
    ).items.filter((e: any) => e.type === 'Warning' && e.reason === 'ReconcilingError');
  await eventually('Warning ReconcilingError', async () => (await warnings()).length > 0, { timeoutMs: 5000 });
  const [w] = await warnings();
  assert.is(
    w.message.startsWith(
      `failed to evict node ${node}: failed to evict pods, errors encountered: [error evicting pod ${ctx.ns}/double on node ${node}: 500 This pod has more than one PodDisruptionBudget`,
    ),
    true,
    w.message,
  );
  assert.is((await warnings()).length, 1, 'one Event per distinct state, not per retry');

  for (const b of ['double-a', 'double-b']) await kube().delete(`/apis/policy/v1/namespaces/${ctx.ns}/poddisruptionbudgets/${b}`);
  await deliverUntilDone(ctx.env.fn.url, name);
  assert.not.ok(await kube().get(podPath('double')), 'evicted and finished once no budget is in the way');
  await assertAllGone(m, node);
});

test('refused by RBAC (no right to cordon): DeleteError on the Machine saying what to grant; nothing deleted; with the rights the deletion completes', async () => {
  // The machine function's ClusterRole from knative/, without its drain rules (nodes: list only).
  const role = parseAllDocuments(readFileSync(path.join(ROOT, 'knative', 'machine', 'rbac.yaml'), 'utf8'))
    .map((d) => d.toJS())
    .find((o) => o?.kind === 'ClusterRole' && o.metadata.name === 'kubevirt-machine-functions-machine');
  const rules = role.rules
    .filter((r: any) => !r.resources.some((x: string) => x.startsWith('pods')))
    .map((r: any) => (r.resources.includes('nodes') ? { ...r, verbs: ['list'] } : r));
  const sa = uniqueName('machine-no-drain');
  await applyManifests(
    stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: sa }, rules }) +
      '---\n' +
      stringify({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: sa },
        subjects: [{ kind: 'ServiceAccount', name: sa, namespace: FUNCTIONS_NAMESPACE }],
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: sa },
      }),
  );
  const dir = mkdtempSync(path.join(tmpdir(), 'kmf-no-drain-'));
  writeFileSync(path.join(dir, 'kubeconfig'), await serviceAccountKubeconfig(FUNCTIONS_NAMESPACE, sa), { mode: 0o600 });
  const fn = await startFunction('machine', { KUBECONFIG: path.join(dir, 'kubeconfig'), INFRA_NAMESPACE: ctx.env.infraNamespace });
  try {
    const m = await provisionedMachine('refused');
    const name = m.metadata.name;
    const node = uniqueName('node');
    await createNode(node, m.metadata.uid, 'True');
    await runningPod('kept', node);
    await kube().delete(machinePath(name));
    const current = await kube().get(machinePath(name));
    await eventually('RBAC grants took effect', async () => (await post(fn.url, resourceEvent('update', current))) === 200, { timeoutMs: 10_000 }); // prettier-ignore
    const after = await kube().get(machinePath(name));
    assert.is(after.status.errorReason, 'DeleteError');
    assert.match(after.status.errorMessage, `draining the Machine's Node was refused: PATCH /api/v1/nodes/${node}: 403 Forbidden`);
    assert.match(
      after.status.errorMessage,
      'Grant the machine function get, list, patch and delete on nodes, list on pods and create on pods/eviction',
    );
    assert.match(
      after.status.errorMessage,
      'or annotate the Node kubermatic.io/skip-eviction (eviction is also skipped once the deletion is older than SKIP_EVICTION_AFTER, 2h)',
    );
    assert.ok(after.metadata.finalizers.includes(MACHINE_FINALIZER), 'finalizer held');
    const vm = await kube().get(infra('virtualmachines', name));
    assert.ok(vm && !vm.metadata.deletionTimestamp, 'VM not deleted before the drain');
    assert.not.ok((await kube().get(nodePath(node))).spec.unschedulable, 'nothing cordoned');

    // The deployment's own rights (knative/machine/rbac.yaml): the drain runs and the deletion completes.
    await deliverUntilDone(ctx.env.fn.url, name);
    await assertAllGone(m, node);
  } finally {
    await fn.stop();
    await kube().delete(`/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${sa}`);
    await kube().delete(`/apis/rbac.authorization.k8s.io/v1/clusterroles/${sa}`);
  }
});

test('a NotReady Node is not drained: no cordon, no eviction; VM and Node deleted at once', async () => {
  const m = await provisionedMachine('notready');
  const name = m.metadata.name;
  const node = uniqueName('node');
  await createNode(node, m.metadata.uid, 'False');
  await runningPod('left', node);

  await kube().delete(machinePath(name));
  await deliverUntilDone(ctx.env.fn.url, name);
  const pod = await kube().get(podPath('left'));
  assert.ok(pod && !pod.metadata.deletionTimestamp, 'pod not evicted');
  await assertAllGone(m, node);
});

test('a Node of the same name that is not the Machine’s (no owner label of its UID) is neither drained nor deleted', async () => {
  const m = await provisionedMachine('foreign');
  const name = m.metadata.name;
  const node = uniqueName('node');
  await createNode(node, 'another-machine-uid', 'True');
  await runningPod('theirs', node);
  // A nodeRef naming it (a stale or hand-written one) does not make it ours.
  await kube().patch(machinePath(name), 'merge', { status: { nodeRef: { apiVersion: 'v1', kind: 'Node', name: node } } });

  await kube().delete(machinePath(name));
  await deliverUntilDone(ctx.env.fn.url, name);
  assert.not.ok(await kube().get(machinePath(name)), 'Machine finalized');
  const n = await kube().get(nodePath(node));
  assert.ok(n, 'foreign Node not deleted');
  assert.not.ok(n.spec.unschedulable, 'foreign Node not cordoned');
  assert.not.ok((await kube().get(podPath('theirs'))).metadata.deletionTimestamp, 'its pod not evicted');
  await kube().delete(nodePath(node));
});

test.run();
