/**
 * `npm start`: the whole stack locally. Without KUBECONFIG it starts the embedded control plane
 * (kube-apiserver, etcd, kube-controller-manager built from Go modules), installs the CRDs,
 * prints `KUBECONFIG=<path>`, runs every function under its knative/ ServiceAccount, the event
 * bridge, the KubeVirt/CDI simulator and a loopback image server, applies the README's example
 * MachineDeployment and shows a live table until Ctrl-C. With KUBECONFIG set it runs against
 * that cluster (the simulator only with --simulate).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { startStack, exampleManifest, type Stack } from '../dev/stack/index.js';
import { formatTable, readRows } from './table.js';

const USAGE = `Usage: npm start [-- flags]
  --simulate      run the KubeVirt/CDI simulator against $KUBECONFIG (always on for the embedded cluster)
  --no-example    do not apply examples/kubevirt-machinedeployment.yaml
  --no-table      log lines only (no live table)
`;

export async function startCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (argv.includes('--help')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const say = (line: string) => void process.stderr.write(`${line}\n`);
  let stopControlPlane: (() => Promise<void>) | undefined;
  let kubeconfig: string;
  let simulate = argv.includes('--simulate');
  if (env.KUBECONFIG) {
    const file = env.KUBECONFIG.split(':')[0];
    kubeconfig = readFileSync(file, 'utf8');
    say(`using the cluster in ${path.resolve(file)}${simulate ? ' with the simulator' : ''}`);
    if (simulate) (await import('../dev/upstream/importer.js')).ensureImporter();
  } else {
    const { startControlPlane } = await import('../dev/cluster/control-plane.js');
    const { ensureBinaries } = await import('../dev/cluster/binaries.js');
    const { defaultCrdFiles } = await import('../dev/cluster/crds.js');
    const { describeVersions, ensureUpstream } = await import('../dev/upstream/index.js');
    const { ensureImporter } = await import('../dev/upstream/importer.js');
    const { ensureAdapter } = await import('../dev/upstream/adapter.js');
    say(
      "starting the embedded control plane (the first run builds it, the upstream CRDs, CDI's importer, Knative's receive adapter and the KubeVirt/CDI admission webhook from Go modules)…",
    );
    const binDir = ensureBinaries();
    say(`upstream: ${describeVersions(ensureUpstream().versions)}`);
    // Built (the first time) before anything runs: the simulator imports with CDI's importer,
    // the bridge runs Knative's receive adapter.
    ensureImporter();
    ensureAdapter();
    const cp = await startControlPlane({ binDir, crdFiles: defaultCrdFiles(), handleSignals: false });
    stopControlPlane = () => cp.stop();
    kubeconfig = cp.kubeconfig;
    simulate = true;
    process.stdout.write(`KUBECONFIG=${path.resolve(cp.kubeconfigPath)}\n`);
    say(`control plane ready in ${cp.timings.totalMs} ms at ${cp.server}`);
  }

  let stack: Stack | undefined;
  let stopping = false;
  // Set once the table runs; shutdown (a signal handler, possibly earlier) clears it.
  let timer: NodeJS.Timeout | undefined = undefined;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (timer) clearInterval(timer);
    say('\nstopping…');
    await stack?.stop().catch((e) => say(`stack stop: ${(e as Error).message}`));
    await stopControlPlane?.().catch((e) => say(`control plane stop: ${(e as Error).message}`));
    say('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  try {
    // Embedded: every function under its knative/ ServiceAccount. Your own cluster: we do not
    // install RBAC into it; the functions run with your kubeconfig's identity.
    stack = await startStack({ kubeconfig, simulate, log: (l) => say(l), serviceAccounts: stopControlPlane !== undefined });
  } catch (e) {
    say(`start failed: ${(e as Error).message}`);
    await shutdown(1);
    return 1;
  }
  say(`image server: ${stack.imageUrl}`);
  say(`registry (stand-in, manifests only): ${stack.registryImageUrl}`);
  if (!argv.includes('--no-example')) {
    for (const d of parseAllDocuments(exampleManifest(stack.imageUrl))) {
      const o = d.toJS();
      await stack.admin.request(
        'PATCH',
        `/apis/cluster.k8s.io/v1alpha1/namespaces/${o.metadata.namespace}/machinedeployments/${o.metadata.name}`,
        {
          body: o,
          contentType: 'application/apply-patch+yaml',
          query: { fieldManager: 'kubevirt-machine-functions-example', force: true },
        },
      );
      say(`applied the example ${o.kind} ${o.metadata.namespace}/${o.metadata.name}`);
    }
  }

  const tty = process.stdout.isTTY && !argv.includes('--no-table');
  let last = '';
  const draw = async () => {
    if (stopping || !stack) return;
    try {
      const table = formatTable(await readRows(stack.admin));
      if (table === last) return;
      last = table;
      process.stdout.write(tty ? `\x1b[2J\x1b[H${table}\n\n(Ctrl-C stops everything)\n` : `${table}\n\n`);
    } catch (e) {
      say(`table: ${(e as Error).message}`);
    }
  };
  timer = setInterval(() => void draw(), 1000);
  await draw();
  return new Promise<number>(() => {}); // runs until a signal
}
