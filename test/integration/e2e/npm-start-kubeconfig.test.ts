/**
 * `npm start` against your own cluster (issue 6: "With KUBECONFIG set it runs against that
 * cluster, simulator only when asked"): with KUBECONFIG pointing at a cluster it did not start
 * and `--simulate`, the real CLI brings the README's example Machines to Ready there, prints no
 * KUBECONFIG line of its own and installs no RBAC; Ctrl-C stops everything it started and leaves
 * the user's cluster running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { root } from '../../../dev/stack/index.js';
import { KubeClient } from '../../../shared/kube/rest.js';
import { connectionFromKubeconfig } from '../../../shared/kube/kubeconfig.js';
import { ensureBinaries } from '../../../dev/cluster/binaries.js';
import { startControlPlane, type ControlPlane } from '../../../dev/cluster/control-plane.js';
import { defaultCrdFiles } from '../../../dev/cluster/crds.js';
import { descendants, isReady, stillAlive, type MachineObj, type Proc } from './stack-support.js';

const test = suite('e2e: npm start with KUBECONFIG (your own cluster)');
const say = (line: string) => console.log(`    [npm start KUBECONFIG e2e] ${line}`);

let users: ControlPlane | undefined;
let cli: ChildProcess | undefined;
let tree: Proc[] = [];

test.after(async () => {
  if (cli && cli.exitCode === null && cli.signalCode === null) {
    try {
      process.kill(-cli.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (const p of tree.filter(stillAlive)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  await users?.stop();
});

test('npm start --simulate with KUBECONFIG: example Machines Ready in that cluster, no RBAC installed, Ctrl-C leaves the cluster running', async () => {
  // "Your own cluster": one this test starts, which the CLI must use and must not stop.
  users = await startControlPlane({ binDir: ensureBinaries(), crdFiles: defaultCrdFiles(), handleSignals: false });
  const kube = new KubeClient(connectionFromKubeconfig(users.kubeconfig));
  let stdout = '';
  let stderr = '';
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: users.kubeconfigPath };
    delete env.KMF_TEST_SERVER;
    const t0 = Date.now();
    cli = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'start', '--simulate', '--no-table'], {
      cwd: root,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cli.stdout!.setEncoding('utf8').on('data', (s: string) => void (stdout += s));
    cli.stderr!.setEncoding('utf8').on('data', (s: string) => void (stderr += s));
    const exited = new Promise<number | string>((resolve) => cli!.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));

    let machines: MachineObj[] = [];
    const deadline = Date.now() + 150_000;
    for (;;) {
      machines = (await kube.request<{ items: MachineObj[] }>('GET', '/apis/cluster.k8s.io/v1alpha1/namespaces/default/machines')).items;
      if (machines.length === 2 && machines.every(isReady)) break;
      if (cli.exitCode !== null || Date.now() > deadline) {
        assert.unreachable(
          `example Machines not Ready in the user's cluster (CLI ${cli.exitCode === null ? 'running' : `exited ${cli.exitCode}`}): ${machines.map((m) => m.metadata.name).join(', ')}\n--- stderr (tail) ---\n${stderr.slice(-3000)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    const readyAt = Date.now() - t0;
    assert.ok(
      machines.every((m) => m.metadata.name.startsWith('workers-')),
      "the example MachineDeployment's Machines",
    );
    assert.match(stderr, /using the cluster in .* with the simulator/);
    assert.not.match(stdout, /^KUBECONFIG=/m, 'no embedded control plane, so no KUBECONFIG line');

    // No RBAC installed into a cluster we do not own: the functions run with the user's identity.
    const sas = await kube
      .request<{ items: unknown[] }>('GET', '/api/v1/namespaces/kubevirt-machine-functions/serviceaccounts')
      .catch(() => ({ items: [] }));
    assert.is(sas.items.length, 0, 'no ServiceAccounts of ours');
    const roles = await kube.request<{ items: { metadata: { name: string } }[] }>('GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles');
    assert.equal(
      roles.items.filter((r) => r.metadata.name.includes('kubevirt-machine-functions')).map((r) => r.metadata.name),
      [],
      'no ClusterRoles of ours',
    );

    tree = descendants(cli.pid!);
    const cmds = tree.map((p) => p.cmdline);
    assert.is(cmds.filter((l) => /\/dist\/functions\/[a-z]+\/server\.cjs\b/.test(l)).length, 7, 'seven function servers (server bundles)');
    assert.is(
      cmds.filter((l) => l.includes('/apiserver_receive_adapter ')).length,
      6,
      "Knative's receive adapter, one per ApiServerSource",
    );
    assert.not.ok(
      cmds.some((l) => /\/(etcd|kube-apiserver|kube-controller-manager) /.test(l)),
      'no control plane of its own',
    );

    process.kill(-cli.pid!, 'SIGINT');
    const timeout = new Promise<string>((r) => setTimeout(() => r('no exit within 60 s'), 60_000).unref());
    assert.is(await Promise.race([exited, timeout]), 0, `exit code after Ctrl-C; stderr tail:\n${stderr.slice(-2000)}`);
    assert.equal(
      tree.filter(stillAlive).map((p) => `${p.pid} ${p.cmdline}`),
      [],
      'no descendant left behind',
    );
    // The user's cluster is still there, with the Machines.
    const after = (await kube.request<{ items: MachineObj[] }>('GET', '/apis/cluster.k8s.io/v1alpha1/namespaces/default/machines')).items;
    assert.is(after.length, 2, 'the cluster still answers and keeps the Machines');
    say(
      `both example Machines Ready in the user's cluster after ${readyAt} ms; exit 0 after Ctrl-C; ${tree.length} descendants, none left; the cluster still runs`,
    );
  } finally {
    kube.close();
  }
});

test.run();
