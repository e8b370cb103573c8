/**
 * Runs a function in its own Node process, reached over real HTTP: the esbuild bundle loaded by
 * the functions-framework CLI, the image's server bundle, or the container image's entry (the
 * function's startup snapshot).
 * Used by the local stack (`npm start`), the integration tests and the benchmarks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freePort } from '../cluster/network.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const FF_MAIN = path.join(root, 'node_modules', '@google-cloud', 'functions-framework', 'build', 'src', 'main.js');

/** Function processes still running; one exit hook kills them all if we exit first. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

let built: Promise<unknown> | undefined;
/** Builds the bundles once per test process. */
export function ensureBundles(): Promise<unknown> {
  built ??= import('../../scripts/build.js').then((m) => m.buildAll());
  return built;
}

/** Where a function server listens: dev/cluster/network.ts's picker (see why there). */
export { freePort };

export interface FunctionServer {
  url: string;
  port: number;
  /** Every stdout/stderr line so far (structured JSON logs). */
  logs: string[];
  /** The process serving it now (a supervised function gets a new one on every restart). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export interface FunctionExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * `cli`: functions-framework's CLI loading dist/functions/<name>/index.js. `image`: what the
 * container image starts, `node --snapshot-blob dist/functions/<name>/snapshot.blob` (the
 * function and functions-framework's server, restored from a V8 startup snapshot). `server`:
 * the same server bundle without the snapshot (dist/functions/<name>/server.cjs) — what
 * `npm start` runs, so the local stack bounds event bodies (MAX_EVENT_BYTES) as the image does;
 * the CLI reads any body whole first.
 */
export type FunctionEntry = 'cli' | 'image' | 'server';

/**
 * The runtime environment the Dockerfile's final stage sets (`ENV K=V` lines), which the image
 * entry runs under here too — GLIBC_TUNABLES among them changes its cold start. Paths inside
 * the image (PATH, NODE_COMPILE_CACHE) are left out.
 */
export function imageEnvironment(dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8')): Record<string, string> {
  const runtime = dockerfile.split(/^FROM\s/m).at(-1) ?? '';
  const env: Record<string, string> = {};
  for (const [, key, value] of runtime.matchAll(/^ENV\s+([A-Za-z_][A-Za-z0-9_]*)=(\S+)\s*$/gm)) {
    if (key !== 'PATH' && key !== 'NODE_COMPILE_CACHE') env[key] = value;
  }
  return env;
}

/** Node arguments that serve function `name` on `port` (the image and server entries read PORT instead). */
export function functionArgs(name: string, entry: FunctionEntry, port: number): string[] {
  if (entry === 'server') return [path.join(root, 'dist', 'functions', name, 'server.cjs')];
  return entry === 'image'
    ? ['--snapshot-blob', path.join(root, 'dist', 'functions', name, 'snapshot.blob')]
    : [FF_MAIN, `--target=${name}`, `--source=${path.join(root, 'dist', 'functions', name, 'index.js')}`, `--port=${port}`];
}

/** One function process: spawned, listening once `ready` resolves, gone once `exited` does. */
interface FunctionProcess {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<FunctionExit>;
  /** SIGTERM, SIGKILL 3 s later; resolves once the process is gone (at once if it already is). */
  stop(): Promise<void>;
}

function spawnFunction(
  name: string,
  env: Record<string, string>,
  port: number,
  entry: FunctionEntry,
  onLines: (lines: string[]) => void,
  readyTimeoutMs = 20_000,
): FunctionProcess {
  const child: ChildProcess = spawn(process.execPath, functionArgs(name, entry, port), {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'production',
      ...(entry === 'image' ? imageEnvironment() : {}),
      PORT: String(port),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let gone: FunctionExit | undefined;
  const exited = new Promise<FunctionExit>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      gone = { code, signal };
      resolve(gone);
    }),
  );
  const seen: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    let partial = '';
    stream.on('data', (b: Buffer) => {
      const parts = (partial + b.toString('utf8')).split('\n');
      partial = parts.pop()!;
      const lines = parts.filter(Boolean);
      seen.push(...lines);
      if (seen.length > 200) seen.splice(0, seen.length - 200);
      onLines(lines);
    });
  }
  const stop = async () => {
    if (gone) return;
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(kill);
  };
  const url = `http://127.0.0.1:${port}/`;
  const ready = (async () => {
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      if (gone) throw new Error(`function ${name} exited (${describeExit(gone)}): ${seen.join('\n')}`);
      try {
        await fetch(url, { method: 'POST', body: '' });
        if (!gone) return;
      } catch {
        if (Date.now() > deadline) {
          await stop();
          throw new Error(`function ${name} did not listen on ${port}: ${seen.join('\n')}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  })();
  return { child, ready, exited, stop };
}

export const describeExit = (e: FunctionExit): string => (e.signal ? `signal ${e.signal}` : `exit code ${e.code}`);

/** Keeps the last 10,000 lines. */
function lineLog(onLine?: (line: string) => void): { logs: string[]; add: (lines: string[]) => void } {
  const logs: string[] = [];
  return {
    logs,
    add(lines) {
      logs.push(...lines);
      if (logs.length > 10_000) logs.splice(0, logs.length - 10_000);
      if (onLine) lines.forEach(onLine);
    },
  };
}

/** Starts `functions/<name>` on a free loopback port with `env` (plus PATH/HOME) and waits until it answers. */
export async function startFunction(
  name: string,
  env: Record<string, string>,
  port?: number,
  onLine?: (line: string) => void,
  entry: FunctionEntry = 'cli',
): Promise<FunctionServer> {
  await ensureBundles();
  const p = port ?? (await freePort());
  const { logs, add } = lineLog(onLine);
  const proc = spawnFunction(name, env, p, entry, add);
  await proc.ready;
  return { url: `http://127.0.0.1:${p}/`, port: p, logs, pid: proc.child.pid, stop: proc.stop };
}

/** Restart delays of a supervised function: `initialMs` doubling to `maxMs`, back to `initialMs` after `resetAfterMs` up. */
export interface RestartBackoff {
  initialMs: number;
  maxMs: number;
  resetAfterMs: number;
}
export const DEFAULT_RESTART_BACKOFF: RestartBackoff = { initialMs: 500, maxMs: 10_000, resetAfterMs: 30_000 };

export interface SupervisedFunction extends FunctionServer {
  /** How often it was started again after dying. */
  readonly restarts: number;
  /** No more restarts from now on (the first step of a shutdown); stop() ends the process. */
  stopRestarting(): void;
  /** Stops it on purpose, waits `downMs`, starts it again (fault injection); no restart meanwhile. */
  restart(downMs?: number): Promise<void>;
}

/**
 * A function process kept running as Kubernetes would keep its container: when it dies, it is
 * started again on the same port (so the bridge's subscriber URL stays valid) after a delay
 * that doubles with each restart that does not last `resetAfterMs`; each death and restart is
 * logged with the function's name. stop() ends it at any point — running, dead and waiting
 * for its restart, or starting — within seconds.
 */
export async function superviseFunction(
  name: string,
  env: Record<string, string>,
  opts: {
    port: number;
    log: (line: string) => void;
    onLine?: (line: string) => void;
    entry?: FunctionEntry;
    backoff?: Partial<RestartBackoff>;
  },
): Promise<SupervisedFunction> {
  await ensureBundles();
  const backoff = { ...DEFAULT_RESTART_BACKOFF, ...opts.backoff };
  const { logs, add } = lineLog(opts.onLine);
  const entry = opts.entry ?? 'server';
  let proc: FunctionProcess;
  let supervising = true;
  let delay = backoff.initialMs;
  let restarts = 0;
  let timer: NodeJS.Timeout | undefined;

  /** Starts a process and watches it; rejects if it does not come up. */
  const launch = async (): Promise<void> => {
    const p = spawnFunction(name, env, opts.port, entry, add);
    proc = p;
    await p.ready;
    const upAt = Date.now();
    void p.exited.then((exit) => {
      if (!supervising || proc !== p) return;
      const upMs = Date.now() - upAt;
      if (upMs >= backoff.resetAfterMs) delay = backoff.initialMs;
      // Its last line usually says why (serve.ts logs an uncaught exception before exiting 16).
      const last = (logs.at(-1) ?? '').slice(0, 500);
      opts.log(
        `function ${name} (pid ${p.child.pid}) died: ${describeExit(exit)} after ${upMs} ms up; restarting it in ${delay} ms` +
          (last ? `; its last output: ${last}` : ''),
      );
      schedule();
    });
  };
  const schedule = () => {
    const wait = delay;
    delay = Math.min(delay * 2, backoff.maxMs);
    timer = setTimeout(() => {
      timer = undefined;
      if (!supervising) return;
      launch().then(
        () => {
          restarts++;
          opts.log(`function ${name} restarted on port ${opts.port} (pid ${proc.child.pid}, restart ${restarts})`);
        },
        (e: Error) => {
          if (!supervising) return;
          opts.log(`function ${name} failed to start again: ${e.message.split('\n')[0]}; next attempt in ${delay} ms`);
          schedule();
        },
      );
    }, wait);
  };
  const stopRestarting = () => {
    supervising = false;
    if (timer) clearTimeout(timer);
    timer = undefined;
  };

  await launch();
  return {
    url: `http://127.0.0.1:${opts.port}/`,
    port: opts.port,
    logs,
    get pid() {
      return proc.child.pid;
    },
    get restarts() {
      return restarts;
    },
    stopRestarting,
    async stop() {
      stopRestarting();
      await proc.stop();
    },
    async restart(downMs = 0) {
      const was = supervising;
      stopRestarting();
      await proc.stop();
      if (downMs) await new Promise((r) => setTimeout(r, downMs));
      supervising = was;
      delay = backoff.initialMs;
      await launch();
    },
  };
}
