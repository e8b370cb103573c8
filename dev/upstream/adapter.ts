/**
 * Knative Eventing's ApiServerSource receive adapter (knative.dev/eventing
 * cmd/apiserver_receive_adapter at versions.env's KNATIVE_EVENTING) as a local program:
 * build-adapter.sh builds it once per machine into the cache outside the repo and prints its path.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const buildScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'build-adapter.sh');

let memo: string | undefined;

/**
 * Runs build-adapter.sh once per process (milliseconds when cached, ~4 minutes the first time
 * on a machine, its progress on our stderr) and returns the adapter binary's absolute path.
 * Throws an Error naming the step that failed.
 */
export function ensureAdapter(): string {
  if (memo) return memo;
  const res = spawnSync('bash', [buildScript], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  const last = res.stdout?.trim().split('\n').pop() ?? '';
  if (res.error) throw new Error(`${buildScript} could not run: ${res.error.message}`);
  if (res.status !== 0 || last === '') {
    const step = res.status !== 0 && last !== '' ? ` while ${last}` : '';
    throw new Error(`${buildScript} failed${step} (exit ${res.status ?? res.signal}); see its output above`);
  }
  memo = last;
  return memo;
}
