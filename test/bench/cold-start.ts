/**
 * Cold start per function bundle: process start → first CloudEvent answered (a real event,
 * handled end to end: here a malformed-kind event, which exercises decoding and validation
 * without needing a cluster), and the process RSS right after. Median of RUNS runs on the
 * pinned Node; `NODE_ENV=production` as deployed.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBundles, freePort } from '../integration/support/function-server.js';
import { functionNames } from '../../scripts/build.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const FF_MAIN = path.join(root, 'node_modules', '@google-cloud', 'functions-framework', 'build', 'src', 'main.js');
const RUNS = Number(process.env.COLD_START_RUNS ?? 11);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function once(name: string): Promise<{ ms: number; rssMiB: number }> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, [FF_MAIN, `--target=${name}`, `--source=${path.join(root, 'dist', 'functions', name, 'index.js')}`, `--port=${port}`], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', KUBECONFIG: '/dev/null' },
    stdio: 'ignore',
  });
  const headers = { 'content-type': 'application/json', 'ce-id': '1', 'ce-source': 'bench', 'ce-specversion': '1.0', 'ce-type': 'dev.knative.apiserver.resource.add' };
  const body = JSON.stringify({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'n' } });
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers, body });
      await res.arrayBuffer();
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

export async function benchColdStart(report: (line: string) => void): Promise<void> {
  await ensureBundles();
  for (const name of functionNames()) {
    await once(name); // warm the page cache
    const runs: { ms: number; rssMiB: number }[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await once(name));
    report(`cold start ${name}: median ${median(runs.map((r) => r.ms)).toFixed(0)} ms to the first answered CloudEvent, RSS ${median(runs.map((r) => r.rssMiB)).toFixed(0)} MiB (n=${RUNS}, ${process.version}, functions-framework CLI + esbuild bundle)`);
  }
}
