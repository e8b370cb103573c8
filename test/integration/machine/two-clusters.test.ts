/**
 * The usual production shape: Machines in the user cluster, VMs on a separate KubeVirt infra
 * cluster reached only through the kubeconfig in the Machine's providerSpec (a ServiceAccount
 * token of that cluster, bound by knative/infra/machine-rbac.yaml). Everything of ours is
 * created there and nothing in the Machines' cluster; deletion cleans up there.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { adminKube, applyManifests } from '../support/admin.js';
import { freshNamespace, uniqueName } from '../support/kube.js';
import {
  applyInfraRbac,
  ensureStorageProfile,
  startMachineEnv,
  exampleProviderSpec,
  machineObject,
  type MachineEnv,
} from '../support/machine-env.js';
import { post, resourceEvent } from '../support/apiserver-events.js';
import { KubeClient } from '../../../shared/kube/rest.js';
import { connectionFromKubeconfig } from '../../../shared/kube/kubeconfig.js';
import { serviceAccountKubeconfig } from '../../../dev/stack/rbac.js';
import { ensureBinaries } from '../../../dev/cluster/binaries.js';
import { startControlPlane, type ControlPlane } from '../../../dev/cluster/control-plane.js';
import { defaultCrdFiles } from '../../../dev/cluster/crds.js';
import { FollowUpType } from '../../../events/followup.js';
import { LABEL_MACHINE_UID, MACHINE_FINALIZER } from '../../../shared/constants.js';

const test = suite('machine function: infra on a separate cluster');
let env: MachineEnv;
let infra: ControlPlane;
let infraKube: KubeClient;
let infraKubeconfigB64: string;

test.before(async () => {
  // Its own service range: the CIDR-overlap preflight compares the two clusters' ranges.
  infra = await startControlPlane({
    binDir: ensureBinaries(),
    crdFiles: defaultCrdFiles(),
    handleSignals: false,
    extraArgs: { apiserver: ['--service-cluster-ip-range=10.1.0.0/24'] },
  });
  infraKube = new KubeClient(connectionFromKubeconfig(infra.kubeconfig));
  env = await startMachineEnv();
  // On the infra cluster: the namespace, the identity the Machines' kubeconfig carries, its RBAC
  // exactly as knative/infra/machine-rbac.yaml grants it, and CDI's StorageProfile.
  await applyManifests(stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: env.infraNamespace } }), { kube: infraKube });
  await applyManifests(stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kubevirt-machine-functions' } }), {
    kube: infraKube,
  });
  await applyInfraRbac(env.infraNamespace, infraKube);
  await ensureStorageProfile('kubermatic-fast', ['ReadWriteOnce'], infraKube);
  await infraKube.create('/api/v1/namespaces/kubevirt-machine-functions/serviceaccounts', { metadata: { name: 'machine-function' } });
  const saKubeconfig = await serviceAccountKubeconfig(infraKube, infra.kubeconfig, 'kubevirt-machine-functions', 'machine-function');
  infraKubeconfigB64 = Buffer.from(saKubeconfig).toString('base64');
});
test.after(async () => {
  await env?.stop();
  infraKube?.close();
  await infra?.stop();
});

test('a Machine whose kubeconfig names another cluster: VM, DataVolume template and Secret there, none here; delete cleans up there', async () => {
  const ns = await freshNamespace('two-clusters');
  const kube = adminKube();
  const { value, labels } = exampleProviderSpec('kubevirt-machinedeployment.yaml', {
    kubeconfigB64: infraKubeconfigB64,
    kubeconfigRaw: Buffer.from(infraKubeconfigB64, 'base64').toString('utf8'),
    imageUrl: env.imageUrl,
  });
  const name = uniqueName('split');
  const m = await kube.create(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machines`, machineObject(name, ns, value, labels));
  assert.is(await post(env.fn.url, resourceEvent('add', m)), 200, env.fn.logs.slice(-3).join('\n'));

  const vmPath = `/apis/kubevirt.io/v1/namespaces/${env.infraNamespace}/virtualmachines/${name}`;
  const secretPath = `/api/v1/namespaces/${env.infraNamespace}/secrets/userdata-${name}`;
  const vm = await infraKube.get(vmPath);
  assert.ok(vm, 'VM on the infra cluster');
  assert.is(vm.metadata.labels[LABEL_MACHINE_UID], m.metadata.uid);
  assert.is(vm.spec.dataVolumeTemplates[0].metadata.name, name);
  const secret = await infraKube.get(secretPath);
  assert.ok(secret, 'userdata Secret on the infra cluster');
  assert.is(secret.metadata.ownerReferences[0].uid, vm.metadata.uid, 'owned by the VM there');
  assert.not.ok(await kube.get(vmPath), "no VM in the Machines' cluster");
  assert.not.ok(await kube.get(secretPath), "no Secret in the Machines' cluster");
  const after = await kube.get(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machines/${name}`);
  assert.ok(after.metadata.finalizers.includes(MACHINE_FINALIZER));
  assert.is(after.status.providerStatus.phase, 'Provisioning');
  await env.sink.waitFor((e) => e.type === FollowUpType.provisioning && e.subject === `${ns}/${name}`);

  await kube.delete(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machines/${name}`);
  const deleting = await kube.get(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machines/${name}`);
  // The VM has no finalizer there (no KubeVirt), so one redelivery at most sees it gone.
  let status = await post(env.fn.url, resourceEvent('update', deleting));
  if (status === 503) status = await post(env.fn.url, resourceEvent('update', deleting));
  assert.is(status, 200, env.fn.logs.slice(-3).join('\n'));
  assert.not.ok(await kube.get(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machines/${name}`), 'Machine gone');
  assert.not.ok(await infraKube.get(vmPath), 'VM deleted on the infra cluster');
  assert.not.ok(await infraKube.get(secretPath), 'Secret deleted on the infra cluster');
  await env.sink.waitFor((e) => e.type === FollowUpType.deleted && e.subject === `${ns}/${name}`);
});

test.run();
