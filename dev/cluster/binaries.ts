/**
 * Where kube-apiserver, kube-controller-manager and etcd live: build.sh answers (it honours
 * KUBEBUILDER_ASSETS, otherwise builds once from Go modules and caches outside the repo).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const buildScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'build.sh');

/**
 * Runs build.sh (seconds when cached, minutes on the first build; its progress goes to our
 * stderr) and returns the directory holding the three binaries.
 */
export function ensureBinaries(): string {
  const res = spawnSync('bash', [buildScript], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  const dir = res.stdout?.trim().split('\n').pop() ?? '';
  if (res.status !== 0 || dir === '') {
    throw new Error(`${buildScript} failed (exit ${res.status ?? res.signal}); see its output above`);
  }
  return dir;
}
