/**
 * Issue 16, items 0 and 1, on the whole local stack (every function under its knative/
 * ServiceAccount, the bridge routing as knative/'s Triggers do, the simulator): Machines converge
 * whatever infra namespace or cluster their spec names, resync re-announces every kind a function
 * consumes, and other providers' Machines and sets are never written.
 *
 * A second control plane with its own simulator plays an infra cluster that only a Machine's
 * kubeconfig names: no ApiServerSource watches it, so its Machine can only converge through
 * resync's Machine-keyed entry of the datavolume and vmi functions.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { adminKube, applyManifests } from '../support/admin.js';
import { eventually, freshNamespace, uniqueName } from '../support/kube.js';
import { applyInfraRbac, ensureStorageProfile } from '../support/machine-env.js';
import type { Stack } from '../../../dev/stack/index.js';
import { startSimulator, type Simulator } from '../../../dev/simulator/index.js';
import { ensureBinaries } from '../../../dev/cluster/binaries.js';
import { startControlPlane, type ControlPlane } from '../../../dev/cluster/control-plane.js';
import { defaultCrdFiles } from '../../../dev/cluster/crds.js';
import { KubeClient } from '../../../shared/kube/rest.js';
import { connectionFromKubeconfig } from '../../../shared/kube/kubeconfig.js';
import { LABEL_MACHINE_UID } from '../../../shared/constants.js';
import {
  MACHINES,
  createMachine,
  flatMachineSpec,
  tenantKubeconfig,
  isReady,
  machinesIn,
  resyncTick,
  sleep,
  startTestStack,
  triggerOf,
  type MachineObj,
} from './stack-support.js';
import { machineDeployment } from './md-support.js';

const test = suite('e2e: every Machine converges whatever infra it names; resync covers every kind; other providers left alone');
let stack: Stack;
let logTail: () => string = () => '';
let infra2: ControlPlane | undefined;
let infra2Kube: KubeClient;
let sim2: Simulator | undefined;
let sim2Dir: string;
const sim2Lines: string[] = [];
const namespaces: string[] = [];
const kube = () => adminKube();
const say = (line: string) => console.log(`    [infra-reach] ${line}`);

test.before(async () => {
  const t0 = Date.now();
  ({ stack, logTail } = await startTestStack());
  await ensureStorageProfile('kubermatic-fast');
  // The second infra cluster: its own service range (the machine function's CIDR-overlap
  // preflight compares the clusters'), KubeVirt/CDI simulated there, nothing of Knative.
  infra2 = await startControlPlane({
    binDir: ensureBinaries(),
    crdFiles: defaultCrdFiles(),
    handleSignals: false,
    extraArgs: { apiserver: ['--service-cluster-ip-range=10.2.0.0/24'] },
  });
  infra2Kube = new KubeClient(connectionFromKubeconfig(infra2.kubeconfig));
  sim2Dir = mkdtempSync(path.join(tmpdir(), 'kmf-infra2-'));
  sim2 = await startSimulator({
    // As virt-controller's ServiceAccount (the default), which KubeVirt's admission there requires.
    kubeconfig: infra2.kubeconfig,
    timings: { dvStepMs: 20, importChunkMs: 20, vmiStepMs: 20, restartBackoffMs: 40 },
    workDir: sim2Dir,
    ipPool: '10.245.0.0/16',
    log: (l) => {
      sim2Lines.push(l);
      if (sim2Lines.length > 100) sim2Lines.shift();
    },
  });
  await ensureStorageProfile('kubermatic-fast', ['ReadWriteOnce'], infra2Kube);
  say(`stack and second infra cluster up in ${Date.now() - t0} ms`);
});

test.after(async () => {
  if (stack) {
    // Delete our Machines while the functions still run (the finalizer goes once the VM is gone),
    // their MachineDeployments and MachineSets first so that nothing replaces them.
    await Promise.all(
      namespaces.map(async (ns) => {
        for (const plural of ['machinedeployments', 'machinesets'])
          await kube()
            .request('DELETE', `${MACHINES}/namespaces/${ns}/${plural}`)
            .catch(() => {});
        for (const m of await machinesIn(kube(), ns).catch(() => []))
          await kube()
            .delete(`${MACHINES}/namespaces/${ns}/machines/${m.metadata.name}`)
            .catch(() => {});
      }),
    );
    await eventually(
      'test Machines deleted',
      async () => (await Promise.all(namespaces.map((ns) => machinesIn(kube(), ns)))).every((l) => l.length === 0),
      { timeoutMs: 30_000 },
    ).catch((e) => say(`cleanup: ${(e as Error).message}`));
    await stack.stop();
  }
  await sim2?.stop();
  infra2Kube?.close();
  await infra2?.stop();
  if (sim2Dir) rmSync(sim2Dir, { recursive: true, force: true });
});

async function namespace(prefix: string): Promise<string> {
  const ns = await freshNamespace(prefix);
  namespaces.push(ns);
  return ns;
}

const machinePath = (ns: string, name: string) => `${MACHINES}/namespaces/${ns}/machines/${name}`;
const getMachine = (ns: string, name: string) => kube().get<MachineObj>(machinePath(ns, name));

async function within(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  try {
    await eventually(what, check, { timeoutMs, intervalMs: 250 });
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- stack log (tail) ---\n${logTail()}`, { cause: e });
  }
}

/**
 * The bridge idle, or 15 s: the suite shares one control plane, so a resync tick here also
 * re-announces Machines earlier test files left behind, whose deliveries may be retried with
 * Knative's backoff for minutes (their image servers and stacks are gone). What these tests
 * check is settled long before that.
 */
const settled = () => Promise.race([stack.bridge!.idle(), sleep(15_000)]);

test('a Machine whose flat namespace is another infra namespace (no own kubeconfig) reaches Ready with an address, by events alone', async () => {
  const ns = await namespace('reach-own');
  const infraNs = await namespace('hold-infra');
  // What an operator does for an infra namespace: knative/infra/machine-rbac.yaml's RoleBinding there.
  await applyInfraRbac(infraNs);
  const name = uniqueName('hold');
  const t0 = Date.now();
  const m = await createMachine(kube(), ns, name, flatMachineSpec(stack.imageUrl, infraNs));
  await within(`${name} Ready`, async () => isReady(await getMachine(ns, name)), 60_000);
  say(`hold-infra Machine (own identity) Ready in ${Date.now() - t0} ms, no resync tick`);
  const vm = await kube().get<{ metadata: { labels: Record<string, string> } }>(
    `/apis/kubevirt.io/v1/namespaces/${infraNs}/virtualmachines/${name}`,
  );
  assert.is(vm?.metadata.labels[LABEL_MACHINE_UID], m.metadata.uid, 'its VM is in the infra namespace the spec names');
});

test('a Machine in another infra namespace with its own infra kubeconfig (an identity only it has) reaches Ready with an address', async () => {
  const ns = await namespace('reach-kc');
  const infraNs = await namespace('hold-tenant');
  // The machine function's own identity has no rights there: only the spec's kubeconfig does.
  const kc = await tenantKubeconfig(kube(), readFileSync(process.env.KUBECONFIG!, 'utf8'), infraNs);
  const name = uniqueName('tenant');
  const t0 = Date.now();
  await createMachine(kube(), ns, name, flatMachineSpec(stack.imageUrl, infraNs, kc));
  await within(`${name} Ready`, async () => isReady(await getMachine(ns, name)), 60_000);
  say(`hold-infra Machine (own kubeconfig) Ready in ${Date.now() - t0} ms, no resync tick`);
});

test('a Machine whose infra cluster no source watches (a second control plane) reaches Ready only through resync', async () => {
  const ns = await namespace('reach-remote');
  const infraNs = 'tenant-remote';
  await applyManifests(stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: infraNs } }), { kube: infra2Kube });
  // knative/infra/machine-rbac.yaml's ClusterRoles on that cluster, for the tenant's identity below.
  await applyInfraRbac(infraNs, infra2Kube);
  const kc = await tenantKubeconfig(infra2Kube, infra2!.kubeconfig, infraNs);
  const name = uniqueName('remote');
  const m = await createMachine(kube(), ns, name, flatMachineSpec(stack.imageUrl, infraNs, kc));
  const dvPath = `/apis/cdi.kubevirt.io/v1beta1/namespaces/${infraNs}/datavolumes/${name}`;
  const vmiPath = `/apis/kubevirt.io/v1/namespaces/${infraNs}/virtualmachineinstances/${name}`;
  // The machine function creates the VM there; the simulator imports and runs it.
  await within(
    'the VM on the second cluster',
    async () => {
      if (await infra2Kube.get(`/apis/kubevirt.io/v1/namespaces/${infraNs}/virtualmachines/${name}`)) return true;
      return false;
    },
    30_000,
  ).catch(async (e) => {
    throw new Error(`${(e as Error).message}\nMachine: ${JSON.stringify((await getMachine(ns, name))?.status)}`, { cause: e });
  });
  await within(
    'the VMI runs on the second cluster',
    async () => {
      const vmi = await infra2Kube.get<{ status?: { phase?: string; interfaces?: unknown[] } }>(vmiPath);
      return vmi?.status?.phase === 'Running' && !!vmi.status.interfaces?.length;
    },
    60_000,
  ).catch(async (e) => {
    const vmi = await infra2Kube.get<{ status?: unknown }>(vmiPath);
    throw new Error(
      `${(e as Error).message}\n--- second cluster's simulator ---\n${sim2Lines.join('\n')}\nVMI status: ${JSON.stringify(vmi?.status)}`,
      { cause: e },
    );
  });
  const dv = await infra2Kube.get<{ status?: { phase?: string }; metadata: { labels: Record<string, string> } }>(dvPath);
  assert.is(dv?.status?.phase, 'Succeeded');
  assert.is(dv?.metadata.labels[LABEL_MACHINE_UID], m.metadata.uid);
  // Nothing announces the second cluster's changes: the Machine stays where the machine function left it.
  await settled();
  await sleep(2000);
  const before = (await getMachine(ns, name))!;
  assert.is(before.status?.providerStatus?.phase, 'Provisioning', 'no event from the second cluster reached anyone');

  const dvTrigger = triggerOf(stack.bridge!, 'datavolume');
  const vmiTrigger = triggerOf(stack.bridge!, 'vmi');
  const delivered = () => stack.bridge!.stats().byTrigger[dvTrigger].delivered + stack.bridge!.stats().byTrigger[vmiTrigger].delivered;
  const d0 = delivered();
  const t0 = Date.now();
  assert.is(await resyncTick(stack.bridge!.ingressUrl), 202);
  await within(`${name} Ready after one resync tick`, async () => isReady(await getMachine(ns, name)), 60_000);
  say(
    `second-cluster Machine Ready ${Date.now() - t0} ms after the tick (${delivered() - d0} deliveries to datavolume/vmi, retries included)`,
  );
});

test('a MachineDeployment created while the bridge is stopped gets its MachineSet and Ready Machines after the next resync tick', async () => {
  const ns = await namespace('reach-md');
  const name = uniqueName('missed-md');
  await stack.stopBridge();
  try {
    await kube().create(`${MACHINES}/namespaces/${ns}/machinedeployments`, machineDeployment(stack.imageUrl, ns, name, { replicas: 2 }));
  } finally {
    await stack.startBridge();
  }
  // The adapters announce nothing that existed when they started.
  await sleep(3000);
  const sets = () => kube().request<{ items: unknown[] }>('GET', `${MACHINES}/namespaces/${ns}/machinesets`);
  assert.is((await sets()).items.length, 0, 'no MachineSet before the tick');
  const t0 = Date.now();
  assert.is(await resyncTick(stack.bridge!.ingressUrl), 202);
  await within('a MachineSet', async () => (await sets()).items.length === 1, 30_000);
  const setAt = Date.now() - t0;
  // Its Machines are created by live events from here on (the machineset source watches).
  await within('two Ready Machines', async () => (await machinesIn(kube(), ns)).filter(isReady).length === 2, 90_000);
  say(`MachineDeployment missed by the sources: MachineSet ${setAt} ms after the tick, 2 Machines Ready at ${Date.now() - t0} ms`);
});

test('aws and hetzner Machines, MachineSets and MachineDeployments are never written, including after a resync tick', async () => {
  const ns = await namespace('reach-foreign');
  const foreignSpec = (cloudProvider: string) => ({
    providerSpec: {
      value: {
        cloudProvider,
        cloudProviderSpec: { instanceType: 't3.small', region: 'eu-central-1' },
        operatingSystem: 'ubuntu',
        operatingSystemSpec: {},
        sshPublicKeys: [],
      },
    },
    versions: { kubelet: '1.30.0' },
  });
  const created: { path: string; rv: string }[] = [];
  for (const provider of ['aws', 'hetzner']) {
    const m = await createMachine(kube(), ns, `${provider}-machine`, foreignSpec(provider));
    created.push({ path: machinePath(ns, m.metadata.name), rv: m.metadata.resourceVersion });
    const labels = { set: `${provider}-set` };
    const ms = await kube().create<MachineObj>(`${MACHINES}/namespaces/${ns}/machinesets`, {
      apiVersion: 'cluster.k8s.io/v1alpha1',
      kind: 'MachineSet',
      metadata: { name: `${provider}-set`, namespace: ns },
      spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: foreignSpec(provider) } },
    });
    created.push({ path: `${MACHINES}/namespaces/${ns}/machinesets/${ms.metadata.name}`, rv: ms.metadata.resourceVersion });
    const mdLabels = { pool: `${provider}-pool` };
    const md = await kube().create<MachineObj>(`${MACHINES}/namespaces/${ns}/machinedeployments`, {
      apiVersion: 'cluster.k8s.io/v1alpha1',
      kind: 'MachineDeployment',
      metadata: { name: `${provider}-md`, namespace: ns },
      spec: {
        replicas: 1,
        selector: { matchLabels: mdLabels },
        template: { metadata: { labels: mdLabels }, spec: foreignSpec(provider) },
      },
    });
    created.push({ path: `${MACHINES}/namespaces/${ns}/machinedeployments/${md.metadata.name}`, rv: md.metadata.resourceVersion });
  }
  // Their live events, then a resync tick and everything it re-announces.
  const resyncTrigger = triggerOf(stack.bridge!, 'resync');
  const ticks0 = stack.bridge!.stats().byTrigger[resyncTrigger].delivered;
  await settled();
  assert.is(await resyncTick(stack.bridge!.ingressUrl), 202);
  await within('the tick delivered', async () => stack.bridge!.stats().byTrigger[resyncTrigger].delivered > ticks0, 30_000);
  await settled();
  await sleep(1500);
  await settled();
  for (const c of created) {
    const now = await kube().get<MachineObj>(c.path);
    assert.is(now?.metadata.resourceVersion, c.rv, `${c.path} unchanged`);
  }
  const machines = await machinesIn(kube(), ns);
  assert.equal(machines.map((m) => m.metadata.name).sort(), ['aws-machine', 'hetzner-machine'], 'no Machines made for their sets');
  const sets = await kube().request<{ items: { metadata: { name: string } }[] }>('GET', `${MACHINES}/namespaces/${ns}/machinesets`);
  assert.equal(sets.items.map((s) => s.metadata.name).sort(), ['aws-set', 'hetzner-set'], 'no MachineSets made for their deployments');
  const events = await kube().request<{ items: { involvedObject: { name: string }; reason: string }[] }>(
    'GET',
    `/api/v1/namespaces/${ns}/events`,
  );
  assert.equal(
    events.items.map((e) => `${e.involvedObject.name} ${e.reason}`),
    [],
    'no Events about them',
  );
});

test.run();
