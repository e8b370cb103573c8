/**
 * `npm test`: unit tests, then integration tests against one real control plane
 * shared by every integration file (each test makes its own namespace).
 * uvu has no global setup hook, so this wrapper owns the control plane's lifetime.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const uvuBin = path.join(root, 'node_modules', 'uvu', 'bin.js');
const unitOnly = process.argv.includes('--unit');

/** Runs one uvu suite directory in a child Node with the tsx loader; returns its exit code. */
function runSuite(dir: string, env: NodeJS.ProcessEnv = process.env): number {
  if (!existsSync(path.join(root, dir))) return 0;
  const res = spawnSync(process.execPath, ['--import', 'tsx', uvuBin, dir, '\\.test\\.ts$'], {
    cwd: root,
    env,
    stdio: 'inherit',
  });
  return res.status ?? 1;
}

let code = runSuite('test/unit');
if (code === 0 && !unitOnly) {
  code = runSuite('test/integration');
}
process.exit(code);
