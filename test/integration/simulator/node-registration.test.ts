/**
 * The simulated kubelet (dev/simulator/kubelet/node-registration.ts): a running VMI's guest registers a Node
 * named after the VM (providerID kubevirt://<vm>, the VMI's address as InternalIP, kubelet
 * version, Ready, the not-ready taint lifted); when the VM stops the Node turns Unknown
 * (unreachable taint) and stays: deleting it is not the kubelet's business.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Simulator } from '../../../dev/simulator/index.js';
import { DEFAULT_KUBELET_VERSION } from '../../../dev/simulator/kubelet/node-registration.js';
import { collectionPath, objectPath, VIRTUAL_MACHINE, VIRTUAL_MACHINE_INSTANCE } from '../../../shared/kube/paths.js';
import { adminKube, eventually, freshNamespace, uniqueName } from '../support/kube.js';
import { startTestSimulator } from './support.js';

const test = suite('simulator: the kubelet of running guests');
let sim: Simulator | undefined;
const nodes: string[] = [];
test.after(async () => {
  await sim?.stop();
  for (const n of nodes) await adminKube().delete(`/api/v1/nodes/${n}`);
});

const readyOf = (n: any) => (n?.status?.conditions ?? []).find((c: any) => c.type === 'Ready');

test('Running VMI → Ready Node with the VM`s providerID and address; stopped → Unknown, not deleted', async () => {
  const ns = await freshNamespace('sim-kubelet');
  sim = await startTestSimulator([ns], { kubelet: {} });
  const name = uniqueName('vm');
  nodes.push(name);
  await adminKube().create(collectionPath(VIRTUAL_MACHINE, ns), {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name },
    spec: {
      runStrategy: 'Always',
      template: { spec: { domain: { devices: {}, resources: { requests: { memory: '64Mi' } } }, volumes: [] } },
    },
  });
  let node: any;
  await eventually('the Node is Ready', async () => {
    node = await adminKube().get(`/api/v1/nodes/${name}`);
    return readyOf(node)?.status === 'True';
  });
  const vmi = await adminKube().get(objectPath(VIRTUAL_MACHINE_INSTANCE, ns, name));
  assert.is(node.spec.providerID, `kubevirt://${name}`);
  assert.equal(node.status.addresses, [
    { type: 'InternalIP', address: vmi.status.interfaces[0].ipAddress },
    { type: 'Hostname', address: name },
  ]);
  assert.is(node.status.nodeInfo.kubeletVersion, DEFAULT_KUBELET_VERSION);
  assert.is(readyOf(node).reason, 'KubeletReady');
  await eventually('the not-ready taint lifted', async () => {
    const n = await adminKube().get(`/api/v1/nodes/${name}`);
    return !(n.spec.taints ?? []).some((t: any) => t.key.startsWith('node.kubernetes.io/'));
  });
  const registered = node.metadata.uid;

  await adminKube().patch(objectPath(VIRTUAL_MACHINE, ns, name), 'merge', { spec: { runStrategy: 'Halted' } });
  await eventually('the Node is Unknown and tainted unreachable', async () => {
    const n = await adminKube().get(`/api/v1/nodes/${name}`);
    return readyOf(n)?.status === 'Unknown' && (n.spec.taints ?? []).some((t: any) => t.key === 'node.kubernetes.io/unreachable');
  });
  const after = await adminKube().get(`/api/v1/nodes/${name}`);
  assert.is(after.metadata.uid, registered, 'the same Node: never deleted and re-registered');
  assert.is(readyOf(after).reason, 'NodeStatusUnknown');
});

test.run();
