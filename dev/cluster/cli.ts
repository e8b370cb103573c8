/**
 * `npm run cluster -- start|stop|build`
 *
 *   start  control plane + all CRDs; prints `KUBECONFIG=<path>` on its own line (stdout,
 *          the only stdout line, so `eval`/grep work) and runs until Ctrl-C or `stop`.
 *   stop   stops the control plane a `start` in another terminal is running.
 *   build  builds (or finds) the binaries and prints their directory.
 */
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBinaries } from './binaries.js';
import { startControlPlane } from './control-plane.js';
import { defaultCrdFiles } from './crds.js';

interface RunningState {
  pid: number;
  dir: string;
  kubeconfigPath: string;
  server: string;
}

// One `start` per user: its PID lets `stop` find it from another terminal.
const cacheRoot =
  process.env.KMF_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'kubevirt-machine-functions');
const stateFile = path.join(cacheRoot, 'cluster.json');

function readState(): RunningState | undefined {
  if (!existsSync(stateFile)) return undefined;
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as RunningState;
  try {
    process.kill(state.pid, 0);
    return state;
  } catch {
    rmSync(stateFile, { force: true }); // stale: that process is gone
    return undefined;
  }
}

const say = (line: string): void => void process.stderr.write(`${line}\n`);

async function start(): Promise<void> {
  const running = readState();
  if (running) {
    say(`a control plane is already running (pid ${running.pid}); stop it with: npm run cluster -- stop`);
    process.stdout.write(`KUBECONFIG=${running.kubeconfigPath}\n`);
    process.exit(1);
  }
  const cp = await startControlPlane({ crdFiles: defaultCrdFiles(), handleSignals: false, log: say });
  mkdirSync(cacheRoot, { recursive: true });
  writeFileSync(
    stateFile,
    JSON.stringify({ pid: process.pid, dir: cp.dir, kubeconfigPath: cp.kubeconfigPath, server: cp.server } satisfies RunningState),
  );
  const t = cp.timings;
  say(
    `ready in ${t.totalMs} ms (pki ${t.pkiMs}, etcd ${t.etcdMs}, kube-apiserver ${t.apiserverMs}, ${cp.crds.length} CRDs ${t.crdsMs}, kube-controller-manager ${t.controllerManagerMs}, kubevirt-admission enforced ${t.admissionMs} ms after its start); RSS ${Math.round((cp.rssKiB().total ?? 0) / 1024)} MiB`,
  );
  say(`server ${cp.server}; logs in ${path.join(cp.dir, 'logs')}; Ctrl-C to stop`);
  process.stdout.write(`KUBECONFIG=${cp.kubeconfigPath}\n`);

  let stopping = false;
  const onSignal = (): void => {
    if (stopping) process.exit(130); // second Ctrl-C: the exit hook kills everything at once
    stopping = true;
    say('stopping…');
    void cp.stop().then(() => {
      rmSync(stateFile, { force: true });
      say('stopped');
      process.exit(0);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The components are unref'd; this keeps the process (and so the control plane) alive.
  setInterval(() => {}, 1 << 30);
}

async function stop(): Promise<void> {
  const running = readState();
  if (!running) {
    say('no control plane is running');
    return;
  }
  process.kill(running.pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      process.kill(running.pid, 0);
    } catch {
      say(`stopped (pid ${running.pid})`);
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`pid ${running.pid} still running after 30 s`);
}

const command = process.argv[2];
try {
  if (command === 'start') await start();
  else if (command === 'stop') await stop();
  else if (command === 'build') process.stdout.write(`${ensureBinaries()}\n`);
  else {
    say('usage: npm run cluster -- start|stop|build');
    process.exit(2);
  }
} catch (e) {
  say(e instanceof Error ? e.message : String(e));
  process.exit(1);
}
