/**
 * Cold start per function bundle: process start → first CloudEvent answered (decoded,
 * validated and answered by the function's handler; no cluster is reachable, so the answer is
 * a 4xx/5xx outcome, but the server, the CloudEvents stack and the function's modules are all
 * loaded — only node:dns waits for the first image preflight), and the RSS right after.
 * Median of RUNS runs on the pinned Node, under the Dockerfile's runtime ENV as deployed.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBundles, freePort, functionArgs } from '../integration/support/function-server.js';
import { imageEnvironment } from '../../dev/stack/functions.js';
import { functionNames } from '../../scripts/build.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUNS = Number(process.env.COLD_START_RUNS ?? 11);
const CACHE_DIR = mkdtempSync(path.join(tmpdir(), 'kmf-compile-cache-'));

/** Every mode runs under the image's runtime environment (the Dockerfile's ENV); image-4k without its malloc tunable. */
const IMAGE_ENV = imageEnvironment();
const { GLIBC_TUNABLES: _tunables, ...IMAGE_ENV_4K } = IMAGE_ENV;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

type Mode = 'image' | 'image-4k' | 'server' | 'cli' | 'floor';

const MODES: Record<Mode, string> = {
  floor: 'a bare node:http server answering 503: Node start + this harness, for reference',
  image: 'image entry: startup snapshot of the function + functions-framework server',
  'image-4k': 'image entry without GLIBC_TUNABLES, i.e. where malloc gets no huge pages',
  server: 'same bundle loaded without the snapshot (server.cjs, compile cache)',
  cli: 'functions-framework CLI + function bundle',
};

/**
 * `image`: the container's entry, `node --snapshot-blob dist/functions/<name>/snapshot.blob`.
 * `server`: the same function and server as one bundle (dist/functions/<name>/server.cjs) with
 * V8's compile cache, as the image ran before it had snapshots. `cli`: functions-framework's CLI
 * loading index.js.
 */
async function once(name: string, mode: Mode): Promise<{ ms: number; rssMiB: number }> {
  const port = await freePort();
  const t0 = performance.now();
  const args =
    mode === 'floor'
      ? [
          '-e',
          "require('node:http').createServer((q, s) => q.resume().on('end', () => { s.statusCode = 503; s.end(); })).listen(+process.env.PORT)",
        ]
      : mode === 'server'
        ? [path.join(root, 'dist', 'functions', name, 'server.cjs')]
        : functionArgs(name, mode === 'image-4k' ? 'image' : mode, port);
  const child = spawn(process.execPath, args, {
    // The image warms V8's compile cache at build time (Dockerfile); the warm-up run does it here.
    env: {
      PATH: process.env.PATH ?? '',
      ...(mode === 'image-4k' ? IMAGE_ENV_4K : IMAGE_ENV),
      KUBECONFIG: '/dev/null',
      PORT: String(port),
      ...(mode === 'server' ? { NODE_COMPILE_CACHE: CACHE_DIR } : {}),
    },
    stdio: 'ignore',
  });
  const headers = {
    'content-type': 'application/json',
    'ce-id': '1',
    'ce-source': 'bench',
    'ce-specversion': '1.0',
    'ce-type': 'dev.knative.apiserver.resource.add',
  };
  const body = JSON.stringify({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'n' } });
  for (;;) {
    try {
      await postOnce(port, headers, body);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  const ms = performance.now() - t0;
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  await new Promise<void>((r) => {
    child.once('exit', () => r());
    child.kill('SIGKILL');
  });
  return { ms, rssMiB: rss };
}

/**
 * One POST over a fresh connection with node:http. Not fetch: on two cores, undici's per-attempt
 * cost while polling a port that is not open yet took CPU from the process being measured
 * (the bare-server reference read 15–20 ms higher).
 */
function postOnce(port: number, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function benchColdStart(report: (line: string) => void): Promise<void> {
  await ensureBundles();
  for (const mode of Object.keys(MODES) as Mode[]) {
    for (const name of mode === 'floor' ? ['reference'] : functionNames()) {
      await once(name, mode); // warm the page cache
      const runs: { ms: number; rssMiB: number }[] = [];
      for (let i = 0; i < RUNS; i++) runs.push(await once(name, mode));
      report(
        `cold start ${name} (${MODES[mode]}): median ${median(runs.map((r) => r.ms)).toFixed(0)} ms to the first answered CloudEvent, RSS ${median(runs.map((r) => r.rssMiB)).toFixed(0)} MiB (n=${RUNS}, ${process.version})`,
      );
    }
  }
}
