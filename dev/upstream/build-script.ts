/**
 * Runs one of this directory's build scripts (fetch.sh, build-*.sh): each builds or fetches
 * once per machine into the cache outside the repo, shows its progress on stderr, and prints
 * its result (a directory or binary path) as the last line of stdout, or on failure the step
 * that failed.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Runs `script` (a file name in dev/upstream); returns its result; throws naming the failed step. */
export function runBuildScript(script: string): string {
  const file = path.join(here, script);
  const res = spawnSync('bash', [file], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  const last = res.stdout?.trim().split('\n').pop() ?? '';
  if (res.error) throw new Error(`${file} could not run: ${res.error.message}`);
  if (res.status !== 0 || last === '') {
    const step = res.status !== 0 && last !== '' ? ` while ${last}` : '';
    throw new Error(`${file} failed${step} (exit ${res.status ?? res.signal}); see its output above`);
  }
  return last;
}

/** `runBuildScript(script)` once per process. */
export function onceBuilt(script: string): () => string {
  let memo: string | undefined;
  return () => (memo ??= runBuildScript(script));
}
