/**
 * Where the machine function gets what machine-controller would: the userdata from
 * operating-system-manager's bootstrap Secret (`<md>-<machine namespace>-bootstrap-config` in
 * `cloud-init-settings`, `<MACHINE_NAME>` replaced) for a Machine of a MachineDeployment, and the
 * infra kubeconfig from a `secretKeyRef` instead of an inline value.
 */
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { adminKube, applyManifests } from '../support/admin.js';
import { uniqueName } from '../support/kube.js';
import { bindReferences, machineSuite, exampleProviderSpec, machineObject } from '../support/machine-env.js';
import { post, resourceEvent } from '../support/apiserver-events.js';

const { test, ctx } = machineSuite('machine function: userdata and referenced kubeconfig');

const spec = () =>
  exampleProviderSpec('kubevirt-machinedeployment.yaml', {
    kubeconfigB64: ctx.env.infraKubeconfigB64,
    kubeconfigRaw: ctx.env.saKubeconfig,
    imageUrl: ctx.env.imageUrl,
  }).value;
const secretData = (path: string) =>
  adminKube()
    .get(path)
    .then((s: any) => Buffer.from(s.data.userdata, 'base64').toString());

test("a MachineDeployment's Machine gets operating-system-manager's cloud-config with its name", async () => {
  const ns = ctx.ns;
  const md = uniqueName('md');
  const ms = `${md}-abc12`;
  await bindReferences('cloud-init-settings');
  await applyManifests(
    stringify({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: `${md}-${ns}-bootstrap-config`,
        namespace: 'cloud-init-settings',
        annotations: { 'k8c.io/machine-deployment-revision': '1' },
      },
      stringData: { 'cloud-config': '#cloud-config\nhostname: <MACHINE_NAME>\n   \nruncmd:\n- echo %3CMACHINE_NAME%3E joined\n' },
    }),
  );
  const mdObj = await adminKube().create(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machinedeployments`, {
    apiVersion: 'cluster.k8s.io/v1alpha1',
    kind: 'MachineDeployment',
    metadata: { name: md },
    spec: { replicas: 0, selector: { matchLabels: { pool: md } }, template: { metadata: { labels: { pool: md } }, spec: {} } },
  });
  const msObj = await adminKube().create(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machinesets`, {
    apiVersion: 'cluster.k8s.io/v1alpha1',
    kind: 'MachineSet',
    metadata: {
      name: ms,
      annotations: { 'machinedeployment.clusters.k8s.io/revision': '1' },
      ownerReferences: [
        { apiVersion: 'cluster.k8s.io/v1alpha1', kind: 'MachineDeployment', name: md, uid: mdObj.metadata.uid, controller: true },
      ],
    },
    spec: { replicas: 0, selector: { matchLabels: { pool: md } }, template: { metadata: { labels: { pool: md } }, spec: {} } },
  });
  const name = `${ms}-x7k2p`;
  const m = machineObject(name, ns, spec(), { pool: md });
  m.metadata.ownerReferences = [
    { apiVersion: 'cluster.k8s.io/v1alpha1', kind: 'MachineSet', name: ms, uid: msObj.metadata.uid, controller: true },
  ];
  const created = await adminKube().create(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machines`, m);
  assert.is(await post(ctx.env.fn.url, resourceEvent('add', created)), 200, ctx.env.fn.logs.at(-1));
  const userdata = await secretData(`/api/v1/namespaces/${ctx.env.infraNamespace}/secrets/userdata-${name}`);
  assert.is(userdata, `#cloud-config\nhostname: ${name}\n\nruncmd:\n- echo ${name} joined\n`);
  const vm = await adminKube().get(`/apis/kubevirt.io/v1/namespaces/${ctx.env.infraNamespace}/virtualmachines/${name}`);
  assert.is(vm.metadata.labels.md, md, 'the md label names the MachineDeployment');
});

test('the infra kubeconfig comes from a secretKeyRef on the Machines cluster', async () => {
  const ns = ctx.ns;
  await bindReferences(ns);
  const secret = uniqueName('infra-kubeconfig');
  await applyManifests(
    stringify({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: secret, namespace: ns },
      stringData: { kubeconfig: ctx.env.saKubeconfig },
    }),
  );
  const value = spec();
  value.cloudProviderSpec.auth.kubeconfig = { secretKeyRef: { namespace: ns, name: secret, key: 'kubeconfig' } };
  const name = uniqueName('refkc');
  const created = await adminKube().create(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machines`, machineObject(name, ns, value));
  assert.is(await post(ctx.env.fn.url, resourceEvent('add', created)), 200, ctx.env.fn.logs.at(-1));
  assert.ok(
    await adminKube().get(`/apis/kubevirt.io/v1/namespaces/${ctx.env.infraNamespace}/virtualmachines/${name}`),
    'VM created through the referenced kubeconfig',
  );
  // a reference to a missing Secret is a configuration error naming it, not a crash
  const bad = spec();
  bad.cloudProviderSpec.auth.kubeconfig = { secretKeyRef: { namespace: ns, name: 'no-such-secret', key: 'kubeconfig' } };
  const badName = uniqueName('refkc-missing');
  const m2 = await adminKube().create(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machines`, machineObject(badName, ns, bad));
  assert.is(await post(ctx.env.fn.url, resourceEvent('add', m2)), 200);
  const after = await adminKube().get(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machines/${badName}`);
  assert.is(after.status.errorReason, 'InvalidConfiguration');
  assert.match(after.status.errorMessage, /no-such-secret/);
});

test.run();
