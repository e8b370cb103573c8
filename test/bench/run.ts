/**
 * `npm run bench`: benchmarks that print figures (never timed assertions). Starts its own
 * control plane, like `npm test`, and stops it at the end.
 */
import { ensureBinaries } from '../cluster/binaries.js';
import { startControlPlane } from '../cluster/control-plane.js';
import { defaultCrdFiles } from '../cluster/crds.js';

const only = process.argv.slice(2);
const cp = await startControlPlane({ binDir: ensureBinaries(), crdFiles: defaultCrdFiles(), handleSignals: true });
process.env.KUBECONFIG = cp.kubeconfigPath;
process.env.KMF_TEST_SERVER = cp.server;
const report = (line: string) => console.log(line);
let code = 0;
try {
  report(`control plane ready in ${cp.timings.totalMs} ms`);
  if (only.length === 0 || only.includes('cold-start')) {
    const { benchColdStart } = await import('./cold-start.js');
    await benchColdStart(report);
  }
  if (only.length === 0 || only.includes('machine')) {
    const { benchMachine } = await import('./machine.js');
    await benchMachine(report);
  }
  if (only.length === 0 || only.includes('machinedeployment')) {
    const { benchMachineDeployment } = await import('./machinedeployment.js');
    await benchMachineDeployment(report);
  }
} catch (e) {
  console.error(`bench failed: ${(e as Error).message}`);
  code = 1;
} finally {
  await cp.stop();
}
process.exit(code);
