/**
 * `npm run bench`: benchmarks that print figures (never timed assertions). Starts its own
 * control plane, like `npm test`, after the cold-start runs, and stops it at the end.
 */
import { ensureBinaries } from '../../dev/cluster/binaries.js';
import { startControlPlane, type ControlPlane } from '../../dev/cluster/control-plane.js';
import { defaultCrdFiles } from '../../dev/cluster/crds.js';

const only = process.argv.slice(2);
const wants = (name: string) => only.length === 0 || only.includes(name);
const report = (line: string) => console.log(line);
let code = 0;
let cp: ControlPlane | undefined;
try {
  // First, and without a cluster running: cold start needs none, and its figures are not disturbed by one.
  if (wants('cold-start')) {
    const { benchColdStart } = await import('./cold-start.js');
    await benchColdStart(report);
  }
  if (wants('machine') || wants('machinedeployment') || wants('images')) {
    cp = await startControlPlane({ binDir: ensureBinaries(), crdFiles: defaultCrdFiles(), handleSignals: true });
    process.env.KUBECONFIG = cp.kubeconfigPath;
    process.env.KMF_TEST_SERVER = cp.server;
    report(`control plane ready in ${cp.timings.totalMs} ms`);
  }
  if (wants('machine')) {
    const { benchMachine } = await import('./machine.js');
    await benchMachine(report);
  }
  if (wants('machinedeployment')) {
    const { benchMachineDeployment } = await import('./machinedeployment.js');
    await benchMachineDeployment(report);
  }
  if (wants('images')) {
    const { benchImages } = await import('./images.js');
    await benchImages(report);
  }
} catch (e) {
  console.error(`bench failed: ${(e as Error).message}`);
  code = 1;
} finally {
  await cp?.stop();
}
process.exit(code);
