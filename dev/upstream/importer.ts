/**
 * CDI's importer as a program (go/cdi-importer: kubevirt.io/containerized-data-importer's
 * pkg/importer at the CDI version pinned in versions.env). build-importer.sh builds it once per
 * machine into the cache outside the repo (KMF_CACHE_DIR, default
 * ~/.cache/kubevirt-machine-functions/bin/cdi-importer-<version>-<hash>/) and prints its path.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const buildScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'build-importer.sh');

let memo: string | undefined;

/**
 * Runs build-importer.sh once per process (milliseconds when cached, ~5 minutes the first time
 * on a machine, its progress on our stderr) and returns the importer binary's absolute path.
 * Throws an Error naming the step that failed.
 */
export function ensureImporter(): string {
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
