/**
 * The simulator's kubelet part of pod deletions: pods being deleted on a `kubevirt://` Node are
 * removed (grace period 0, UID precondition) once their grace period is over; pods on other
 * Nodes, and pods not being deleted, are left alone.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Simulator } from '../../../dev/simulator/index.js';
import { adminKube } from '../support/admin.js';
import { eventually, freshNamespace, uniqueName } from '../support/kube.js';
import { startTestSimulator } from './support.js';

const test = suite('simulator: the kubelet finishes pod deletions on its Nodes');
const ctx = {} as { sim: Simulator; ns: string; nodes: string[] };
const kube = () => adminKube();

test.before(async () => {
  ctx.ns = await freshNamespace('pods', { waitForDefaultServiceAccount: true });
  ctx.nodes = [];
  // Namespaces given: the infra watches are scoped, the pod and Node watches are not.
  ctx.sim = await startTestSimulator([uniqueName('unused')]);
});
test.after(async () => {
  await ctx.sim?.stop();
  for (const n of ctx.nodes) await kube().delete(`/api/v1/nodes/${n}`);
});

async function node(providerID: string | undefined): Promise<string> {
  const name = uniqueName('node');
  ctx.nodes.push(name);
  await kube().create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: providerID ? { providerID } : {} });
  return name;
}

async function pod(nodeName: string, grace = 1): Promise<string> {
  const name = uniqueName('p');
  await kube().create(`/api/v1/namespaces/${ctx.ns}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { nodeName, terminationGracePeriodSeconds: grace, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] },
  });
  return name;
}

const podPath = (name: string) => `/api/v1/namespaces/${ctx.ns}/pods/${name}`;

test('a deleted pod on a kubevirt:// Node is removed after its grace period; not before', async () => {
  const n = await node(`kubevirt://${uniqueName('vm')}`);
  const p = await pod(n, 2);
  const started = Date.now();
  await kube().delete(podPath(p));
  const terminating = await kube().get(podPath(p));
  assert.ok(terminating?.metadata.deletionTimestamp, 'bound pod: graceful deletion, Terminating');
  await eventually('pod removed', async () => !(await kube().get(podPath(p))), { timeoutMs: 10_000, intervalMs: 50 });
  const took = Date.now() - started;
  assert.ok(took >= 2000, `removed after ${took} ms, before its 2 s grace period`);
});

test('pods on other Nodes stay Terminating; a pod not being deleted is never touched', async () => {
  const other = await node('aws:///eu-west-1a/i-0123');
  const bare = await node(undefined);
  const sim = await node(`kubevirt://${uniqueName('vm')}`);
  const onOther = await pod(other);
  const onBare = await pod(bare);
  const alive = await pod(sim);
  await kube().delete(podPath(onOther));
  await kube().delete(podPath(onBare));
  await new Promise((r) => setTimeout(r, 2500));
  for (const p of [onOther, onBare]) assert.ok((await kube().get(podPath(p)))?.metadata.deletionTimestamp, `${p} still Terminating`);
  const a = await kube().get(podPath(alive));
  assert.ok(a && !a.metadata.deletionTimestamp, 'a running pod on a simulated Node is left alone');
  // Clean up what no kubelet will finish here.
  for (const p of [onOther, onBare]) await kube().request('DELETE', podPath(p), { body: { gracePeriodSeconds: 0 } });
});

test('a Node that gets its kubevirt:// providerID after the pod began terminating still has it finished', async () => {
  const n = await node(undefined);
  const p = await pod(n);
  await kube().delete(podPath(p));
  await new Promise((r) => setTimeout(r, 1500));
  assert.ok(await kube().get(podPath(p)), 'not ours yet: left Terminating');
  await kube().patch(`/api/v1/nodes/${n}`, 'merge', { spec: { providerID: `kubevirt://${uniqueName('vm')}` } });
  await eventually('pod removed', async () => !(await kube().get(podPath(p))), { timeoutMs: 10_000, intervalMs: 50 });
});

test.run();
