/**
 * `npm test`: unit tests, then integration tests against one real control plane
 * shared by every integration file (each test makes its own namespace).
 * uvu has no global setup hook, so this wrapper owns the control plane's lifetime.
 *
 * The integration suite gets KUBECONFIG (admin, system:masters) and KMF_TEST_SERVER (the
 * API URL; test/integration/support/kube.ts refuses any other server).
 *
 * Tests that need a missing system tool (qemu-img, xz, …) are skipped and recorded in a file
 * (KMF_SKIP_LOG); the run ends by naming each missing tool, its install command and how many
 * tests were skipped. Under CI=true a skip fails the run: CI installs every tool.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { ensureBinaries } from '../dev/cluster/binaries.js';
import { startControlPlane, type ControlPlane } from '../dev/cluster/control-plane.js';
import { defaultCrdFiles } from '../dev/cluster/crds.js';
import { describeVersions, ensureUpstream } from '../dev/upstream/index.js';
import { ensureImporter } from '../dev/upstream/importer.js';
import { SKIP_LOG_ENV, installCommand, missingTools, type SystemTool } from './support/system-tools.js';

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
  say(
    `ready in ${t.totalMs} ms (etcd ${t.etcdMs}, kube-apiserver ${t.apiserverMs}, ${cp.crds.length} CRDs ${t.crdsMs}, kube-controller-manager ${t.controllerManagerMs}, kubevirt-admission enforced ${t.admissionMs} ms after its start) at ${cp.server}`,
  );
  try {
    const code = await runSuite('test/integration', { ...process.env, KUBECONFIG: cp.kubeconfigPath, KMF_TEST_SERVER: cp.server });
    if (interrupted) return code;
    const rss = cp.rssKiB();
    say(
      `RSS after the suite: ${mib(rss.total)} (etcd ${mib(rss.etcd)}, kube-apiserver ${mib(rss['kube-apiserver'])}, kube-controller-manager ${mib(rss['kube-controller-manager'])}, kubevirt-admission ${mib(rss['kubevirt-admission'])})`,
    );
    return code;
  } finally {
    await cp.stop();
  }
}

/** Names each missing tool with its install command and the number of tests skipped for it. */
function reportSkips(logFile: string): number {
  const skips = existsSync(logFile)
    ? readFileSync(logFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { test: string; missing: SystemTool[] })
    : [];
  if (skips.length === 0) return 0;
  const byTool = new Map<SystemTool, number>();
  for (const s of skips) for (const t of s.missing) byTool.set(t, (byTool.get(t) ?? 0) + 1);
  process.stderr.write(`\nskipped ${skips.length} test(s) for missing system tools:\n`);
  for (const [tool, n] of byTool) process.stderr.write(`  ${tool}: ${n} test(s); install with: ${installCommand([tool])}\n`);
  process.stderr.write(`  (all of them: bash .ci/system-deps.sh)\n`);
  return skips.length;
}

const missing = missingTools();
if (missing.length > 0) {
  process.stderr.write(`missing system tools: ${missing.join(', ')} (${installCommand(missing)}); the tests that need them are skipped\n`);
}
try {
  process.stderr.write(`upstream artefacts: ${describeVersions(ensureUpstream().versions)}\n`);
  // The simulator imports http DataVolumes with CDI's importer: built once per machine, here
  // rather than in the middle of a test.
  if (!unitOnly) process.stderr.write(`CDI's importer: ${ensureImporter()}\n`);
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
const skipDir = mkdtempSync(path.join(tmpdir(), 'kmf-skips-'));
const skipLog = path.join(skipDir, 'skips.jsonl');
process.env[SKIP_LOG_ENV] = skipLog;

let code = await runSuite('test/unit');
if (code === 0 && !unitOnly && !interrupted) code = await integration();
const skipped = reportSkips(skipLog);
rmSync(skipDir, { recursive: true, force: true });
if (code === 0 && skipped > 0 && process.env.CI === 'true') {
  process.stderr.write('CI=true: skipped tests fail the run (CI installs every tool: .ci/system-deps.sh)\n');
  code = 1;
}
process.exit(code);
