/**
 * Runs chosen integration test files against a fresh control plane (what `npm test` does for
 * the whole suite): `node --import tsx dev/cluster/dev-run.ts test/integration/machine`.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBinaries } from './binaries.js';
import { startControlPlane } from './control-plane.js';
import { defaultCrdFiles } from './crds.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const [dir = 'test/integration', pattern = '\\.test\\.ts$'] = process.argv.slice(2);
const cp = await startControlPlane({ binDir: ensureBinaries(), crdFiles: defaultCrdFiles(), handleSignals: true });
const code = await new Promise<number>((resolve) => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'node_modules/uvu/bin.js'), dir, pattern], {
    cwd: root,
    env: { ...process.env, KUBECONFIG: cp.kubeconfigPath, KMF_TEST_SERVER: cp.server },
    stdio: 'inherit',
  });
  child.on('exit', (c) => resolve(c ?? 1));
});
await cp.stop();
process.exit(code);
