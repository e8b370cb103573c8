import { ensureBinaries } from '../cluster/binaries.ts';
import { startControlPlane } from '../cluster/control-plane.ts';
import { defaultCrdFiles } from '../cluster/crds.ts';
const cp = await startControlPlane({ binDir: ensureBinaries(), crdFiles: defaultCrdFiles(), handleSignals: true });
process.env.KUBECONFIG = cp.kubeconfigPath; process.env.KMF_TEST_SERVER = cp.server;
const { adminKube } = await import('../integration/support/admin.ts');
const { freshNamespace } = await import('../integration/support/kube.ts');
const { startMachineEnv, exampleProviderSpec, machineObject } = await import('../integration/support/machine-env.ts');
const { post, resourceEvent } = await import('../integration/support/apiserver-events.ts');
const env = await startMachineEnv({ extraEnv: { NODE_OPTIONS: '--cpu-prof --cpu-prof-dir=/tmp/prof' } });
const ns = await freshNamespace('prof');
const { value } = exampleProviderSpec('kubevirt-machinedeployment.yaml', { kubeconfigB64: env.infraKubeconfigB64, kubeconfigRaw: env.saKubeconfig, imageUrl: env.imageUrl });
const lat = [];
for (let i = 0; i < 80; i++) {
  const m = await adminKube().create(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machines`, machineObject(`p-${i}`, ns, value));
  const t = performance.now(); await post(env.fn.url, resourceEvent('add', m)); lat.push(performance.now() - t);
}
lat.sort((a,b)=>a-b); console.log('p50', lat[40].toFixed(1), 'p90', lat[72].toFixed(1));
const inFn = env.fn.logs.slice(-60).map((l) => JSON.parse(l).durationMs).sort((a,b)=>a-b); console.log('inFn p50', inFn[30]);
await env.stop(); await cp.stop(); process.exit(0);
