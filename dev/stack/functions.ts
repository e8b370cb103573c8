/**
 * Runs a function in its own Node process, reached over real HTTP: the esbuild bundle loaded by
 * the functions-framework CLI, or the container image's entry (the function's startup snapshot).
 * Used by the local stack (`npm start`), the integration tests and the benchmarks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
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

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface FunctionServer {
  url: string;
  port: number;
  /** Every stdout/stderr line so far (structured JSON logs). */
  logs: string[];
  stop(): Promise<void>;
}

/**
 * `cli`: functions-framework's CLI loading dist/functions/<name>/index.js. `image`: what the
 * container image starts, `node --snapshot-blob dist/functions/<name>/snapshot.blob` (the
 * function and functions-framework's server, restored from a V8 startup snapshot).
 */
export type FunctionEntry = 'cli' | 'image';

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

/** Node arguments that serve function `name` on `port` (the image entry reads PORT instead). */
export function functionArgs(name: string, entry: FunctionEntry, port: number): string[] {
  return entry === 'image'
    ? ['--snapshot-blob', path.join(root, 'dist', 'functions', name, 'snapshot.blob')]
    : [FF_MAIN, `--target=${name}`, `--source=${path.join(root, 'dist', 'functions', name, 'index.js')}`, `--port=${port}`];
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
  const child: ChildProcess = spawn(process.execPath, functionArgs(name, entry, p), {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'production',
      ...(entry === 'image' ? imageEnvironment() : {}),
      PORT: String(p),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const collect = (b: Buffer) => {
    const lines = b.toString('utf8').split('\n').filter(Boolean);
    logs.push(...lines);
    if (logs.length > 10_000) logs.splice(0, logs.length - 10_000);
    if (onLine) lines.forEach(onLine);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const url = `http://127.0.0.1:${p}/`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`function ${name} exited: ${logs.join('\n')}`);
    try {
      await fetch(url, { method: 'POST', body: '' });
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`function ${name} did not listen on ${p}: ${logs.join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return { url, port: p, logs, stop };
}
