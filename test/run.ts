/**
 * `npm test`: unit tests, then integration tests against one real control plane
 * shared by every integration file (each test makes its own namespace).
 * uvu has no global setup hook, so this wrapper owns the control plane's lifetime.
 *
 * The integration suite gets KUBECONFIG (admin, system:masters) and KMF_TEST_SERVER (the
 * API URL; test/integration/support/kube.ts refuses any other server).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { ensureBinaries } from '../dev/cluster/binaries.js';
import { startControlPlane, type ControlPlane } from '../dev/cluster/control-plane.js';
import { defaultCrdFiles } from '../dev/cluster/crds.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const uvuBin = path.join(root, 'node_modules', 'uvu', 'bin.js');
const unitOnly = process.argv.includes('--unit');
const TEST_FILE = /\.test\.ts$/;

let suite: ChildProcess | undefined;
let controlPlane: ControlPlane | undefined;

/** True when `dir` (recursively) holds at least one test file. */
function hasTests(dir: string): boolean {
  const abs = path.join(root, dir);
  if (!existsSync(abs)) return false;
  return readdirSync(abs, { recursive: true, encoding: 'utf8' }).some((f) => TEST_FILE.test(f));
}

/** Runs one uvu suite directory in a child Node with the tsx loader; resolves with its exit code. */
function runSuite(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (!hasTests(dir)) return Promise.resolve(0);
  // Asynchronous (not spawnSync) so our signal handlers can run while the suite does.
  return new Promise((resolve) => {
    suite = spawn(process.execPath, ['--import', 'tsx', uvuBin, dir, TEST_FILE.source], { cwd: root, env, stdio: 'inherit' });
    suite.on('exit', (code, signal) => {
      suite = undefined;
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

// Ctrl-C / CI cancellation: end the suite, stop the control plane in order, then exit.
let interrupted = false;
function onSignal(signal: NodeJS.Signals): void {
  if (interrupted) process.exit(130); // the control plane's exit hook still kills it
  interrupted = true;
  suite?.kill(signal);
  process.stderr.write(`\n${signal}: stopping…\n`);
  void (controlPlane?.stop() ?? Promise.resolve()).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const mib = (kib: number | undefined): string => `${Math.round((kib ?? 0) / 1024)} MiB`;

async function integration(): Promise<number> {
  if (!hasTests('test/integration')) return 0;
  const say = (line: string): void => void process.stderr.write(`[control plane] ${line}\n`);
  try {
    controlPlane = await startControlPlane({
      binDir: ensureBinaries(),
      crdFiles: defaultCrdFiles(),
      handleSignals: false,
      log: process.env.KMF_CLUSTER_VERBOSE === '1' ? say : undefined,
    });
  } catch (e) {
    say(e instanceof Error ? e.message : String(e));
    return 1;
  }
  const cp = controlPlane;
  const t = cp.timings;
  say(`ready in ${t.totalMs} ms (etcd ${t.etcdMs}, kube-apiserver ${t.apiserverMs}, ${cp.crds.length} CRDs ${t.crdsMs}, kube-controller-manager ${t.controllerManagerMs}) at ${cp.server}`);
  try {
    const code = await runSuite('test/integration', { ...process.env, KUBECONFIG: cp.kubeconfigPath, KMF_TEST_SERVER: cp.server });
    if (interrupted) return code;
    const rss = cp.rssKiB();
    say(`RSS after the suite: ${mib(rss.total)} (etcd ${mib(rss.etcd)}, kube-apiserver ${mib(rss['kube-apiserver'])}, kube-controller-manager ${mib(rss['kube-controller-manager'])})`);
    return code;
  } finally {
    await cp.stop();
  }
}

let code = await runSuite('test/unit');
if (code === 0 && !unitOnly && !interrupted) code = await integration();
process.exit(code);
