/**
 * ConfigVar references offline: a secretKeyRef / configMapKeyRef that cannot be resolved is
 * reported naming the reference (never invented); `--secret` resolves Secret references;
 * `--env` supplies the controller's environment (KUBEVIRT_KUBECONFIG, CLUSTER_ID, PROJECT_ID,
 * INFRA_NAMESPACE / POD_NAMESPACE).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KUBECONFIG_BASE64, KUBECONFIG_YAML, machineYaml, nestedValue, renderFails, renderOk } from './support.js';

const REF = { namespace: 'kube-system', name: 'infra-kubeconfig', key: 'kubeconfig' };

/** A nested value whose kubeconfig comes from REF. */
function secretKubeconfigValue(): Record<string, any> {
  return nestedValue({ auth: { kubeconfig: { secretKeyRef: REF } } });
}

test('an unresolvable kubeconfig secretKeyRef is reported, naming the reference', async () => {
  const stderr = await renderFails(machineYaml(secretKubeconfigValue()));
  assert.match(
    stderr,
    /cloudProviderSpec\.auth\.kubeconfig: failed to get value of "kubeconfig" field: secretKeyRef kube-system\/infra-kubeconfig \(key 'kubeconfig'\) cannot be resolved offline/,
  );
});

test('--secret resolves it (raw YAML or base64, as machine-controller decodes Secret values)', async () => {
  for (const value of [KUBECONFIG_YAML, KUBECONFIG_BASE64]) {
    const { vm, stderr } = await renderOk(machineYaml(secretKubeconfigValue()), [
      '--secret',
      `kube-system/infra-kubeconfig:kubeconfig=${value}`,
    ]);
    assert.is(vm.kind, 'VirtualMachine');
    assert.is(stderr, '');
  }
});

test('--secret for the right Secret but another key: the missing key is named', async () => {
  const stderr = await renderFails(machineYaml(secretKubeconfigValue()), [
    '--secret',
    `kube-system/infra-kubeconfig:config=${KUBECONFIG_YAML}`,
  ]);
  assert.match(stderr, /secret 'infra-kubeconfig' in namespace 'kube-system' has no key 'kubeconfig'/);
});

test('--secret whose value is not a kubeconfig is rejected without echoing it', async () => {
  const stderr = await renderFails(machineYaml(secretKubeconfigValue()), [
    '--secret',
    'kube-system/infra-kubeconfig:kubeconfig=hello: world',
  ]);
  assert.match(stderr, /cloudProviderSpec\.auth\.kubeconfig: failed to decode kubeconfig: invalid configuration/);
  assert.not.match(stderr, 'hello');
});

test('an unresolvable reference with KUBEVIRT_KUBECONFIG in --env: rendered, with a warning naming the reference', async () => {
  const { stderr } = await renderOk(machineYaml(secretKubeconfigValue()), ['--env', `KUBEVIRT_KUBECONFIG=${KUBECONFIG_BASE64}`]);
  assert.match(
    stderr,
    /warning: cloudProviderSpec\.auth\.kubeconfig: secretKeyRef kube-system\/infra-kubeconfig \(key 'kubeconfig'\) cannot be resolved offline.*using KUBEVIRT_KUBECONFIG/,
  );
});

test('--env KUBEVIRT_KUBECONFIG is read when the spec has no kubeconfig (and validated)', async () => {
  const value = nestedValue();
  delete value.cloudProviderSpec.auth;
  await renderOk(machineYaml(value), ['--env', `KUBEVIRT_KUBECONFIG=${KUBECONFIG_YAML}`]);
  const stderr = await renderFails(machineYaml(value), ['--env', 'KUBEVIRT_KUBECONFIG=not a kubeconfig']);
  assert.match(stderr, /cloudProviderSpec\.auth\.kubeconfig: failed to decode kubeconfig/);
});

test('a secretKeyRef for another field (cpus) is reported, then resolved by --secret', async () => {
  const value = nestedValue();
  value.cloudProviderSpec.virtualMachine.template.cpus = { secretKeyRef: { namespace: 'ops', name: 'sizes', key: 'cpus' } };
  const stderr = await renderFails(machineYaml(value));
  assert.match(
    stderr,
    /cloudProviderSpec\.virtualMachine\.template\.cpus: failed to get value of "cpus" field: secretKeyRef ops\/sizes \(key 'cpus'\) cannot be resolved offline/,
  );
  const { vm } = await renderOk(machineYaml(value), ['--secret', 'ops/sizes:cpus=3']);
  assert.equal(vm.spec.template.spec.domain.resources.limits, { cpu: '3', memory: '4Gi' });
});

test('a configMapKeyRef cannot be resolved offline and is reported', async () => {
  const value = nestedValue();
  value.cloudProviderSpec.virtualMachine.template.memory = { configMapKeyRef: { namespace: 'ops', name: 'sizes', key: 'memory' } };
  const stderr = await renderFails(machineYaml(value));
  assert.match(
    stderr,
    /cloudProviderSpec\.virtualMachine\.template\.memory: failed to get value of "memory" field: configMapKeyRef ops\/sizes \(key 'memory'\) cannot be resolved offline/,
  );
});

test('--env CLUSTER_ID and PROJECT_ID override the spec (as KKP sets them on the controller)', async () => {
  const value = nestedValue({ projectID: 'proj-spec' });
  const plain = await renderOk(machineYaml(value));
  assert.is(plain.vm.metadata.labels['cluster.x-k8s.io/cluster-name'], 'cluster-a');
  assert.is(plain.vm.metadata.labels['kubermatic.k8c.io/project-id'], 'proj-spec');

  const { vm } = await renderOk(machineYaml(value), [
    '--env',
    'CLUSTER_ID=cluster-env',
    '--env',
    'PROJECT_ID=proj-env',
    '--with-ownership',
  ]);
  for (const labels of [vm.metadata.labels, vm.spec.template.metadata.labels]) {
    assert.is(labels['cluster.x-k8s.io/cluster-name'], 'cluster-env');
    assert.is(labels['kubermatic.k8c.io/cluster-id'], 'cluster-env');
    assert.is(labels['kubermatic.k8c.io/project-id'], 'proj-env');
  }
  assert.is(vm.metadata.labels['cluster.x-k8s.io/cluster-name'], 'cluster-env', 'ownership uses the resolved cluster name');
});

test('the process environment passed to parseRenderArgs counts like --env', async () => {
  const { vm } = await renderOk(machineYaml(nestedValue()), [], { CLUSTER_ID: 'from-process-env' });
  assert.is(vm.metadata.labels['cluster.x-k8s.io/cluster-name'], 'from-process-env');
  const flagged = await renderOk(machineYaml(nestedValue()), ['--env', 'CLUSTER_ID=from-flag'], { CLUSTER_ID: 'from-process-env' });
  assert.is(flagged.vm.metadata.labels['cluster.x-k8s.io/cluster-name'], 'from-flag');
});

test('infra namespace: --namespace, else INFRA_NAMESPACE, else POD_NAMESPACE, else kube-system (as the function)', async () => {
  const yaml = machineYaml(nestedValue());
  const ns = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const { vm, secret } = await renderOk(yaml, args, env);
    assert.is(secret.metadata.namespace, vm.metadata.namespace, 'the Secret is next to its VM');
    return vm.metadata.namespace as string;
  };
  assert.is(await ns([]), 'kube-system');
  assert.is(await ns(['--env', 'POD_NAMESPACE=pod-ns']), 'pod-ns');
  assert.is(await ns(['--env', 'POD_NAMESPACE=pod-ns', '--env', 'INFRA_NAMESPACE=infra-ns']), 'infra-ns');
  assert.is(await ns(['--env', 'INFRA_NAMESPACE=infra-ns', '--namespace', 'flag-ns']), 'flag-ns');
  assert.is(await ns(['--env', 'INFRA_NAMESPACE=']), 'kube-system', 'an empty variable is unset');
});

test.run();
