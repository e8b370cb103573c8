/**
 * The flat 2019 cloudProviderSpec renders the same VirtualMachine (and Secret) as its nested
 * equivalent, written out by hand here. The nested schema has no namespace: it is given with
 * --namespace, as an operator moving off the flat schema would configure it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { KUBECONFIG_BASE64, KUBECONFIG_YAML, SSH_KEY, exampleYaml, loadExample, renderOk } from './support.js';

/** The 2019 examples' spec, by hand in the nested schema. */
function nestedEquivalent(): Record<string, unknown> {
  return {
    sshPublicKeys: [SSH_KEY],
    cloudProvider: 'kubevirt',
    cloudProviderSpec: {
      auth: { kubeconfig: { value: KUBECONFIG_BASE64 } },
      virtualMachine: {
        template: {
          cpus: '1',
          memory: '2048M',
          primaryDisk: {
            osImage: 'http://10.109.79.210/ubuntu.img',
            size: '10Gi',
            storageClassName: 'kubermatic-fast',
            storageTarget: 'pvc',
            storageAccessType: 'ReadWriteOnce',
          },
        },
      },
    },
    operatingSystem: 'ubuntu',
    operatingSystemSpec: { distUpgradeOnBoot: false, disableAutoUpdate: true },
  };
}

/** The example MachineDeployment with its providerSpec value replaced. */
function withValue(md: any, value: unknown): string {
  md.spec.template.spec.providerSpec.value = value;
  return stringify(md);
}

for (const [file, kubeconfigField] of [
  ['kubevirt-machinedeployment-2019-kubeconfig.yaml', 'kubeconfig'],
  ['kubevirt-machinedeployment-2019-sourceurl.yaml', 'config'],
] as const) {
  test(`${file}: the hand-written nested spec matches the flat one field by field`, () => {
    const flat = loadExample(file).spec.template.spec.providerSpec.value;
    const nested = nestedEquivalent() as any;
    const t = nested.cloudProviderSpec.virtualMachine.template;
    assert.equal(
      {
        sourceURL: t.primaryDisk.osImage,
        pvcSize: t.primaryDisk.size,
        storageClassName: t.primaryDisk.storageClassName,
        cpus: t.cpus,
        memory: t.memory,
      },
      {
        sourceURL: flat.cloudProviderSpec.sourceURL,
        pvcSize: flat.cloudProviderSpec.pvcSize,
        storageClassName: flat.cloudProviderSpec.storageClassName,
        cpus: flat.cloudProviderSpec.cpus,
        memory: flat.cloudProviderSpec.memory,
      },
    );
    assert.is(flat.cloudProviderSpec[kubeconfigField].value, KUBECONFIG_YAML);
    assert.is(flat.cloudProviderSpec.namespace, 'kube-system');
    assert.equal({ ...flat, cloudProviderSpec: undefined }, { ...nested, cloudProviderSpec: undefined });
  });

  for (const infraNs of ['kube-system', 'vms-2019']) {
    test(`${file}: flat and nested render the same VM and Secret (infra namespace ${infraNs})`, async () => {
      const flatMd = loadExample(file);
      flatMd.spec.template.spec.providerSpec.value.cloudProviderSpec.namespace = infraNs;
      // POD_NAMESPACE must lose against the flat spec's namespace, as it does in the function.
      const env = { POD_NAMESPACE: 'controller-ns' };
      const flat = await renderOk(stringify(flatMd), [], env);
      const nested = await renderOk(withValue(loadExample(file), nestedEquivalent()), ['--namespace', infraNs], env);

      assert.is(flat.vm.metadata.namespace, infraNs);
      assert.equal(flat.vm, nested.vm);
      assert.equal(flat.secret, nested.secret);
      assert.match(flat.stderr, new RegExp(`deprecated: cloudProviderSpec\\.${kubeconfigField} is deprecated`));
      assert.not.match(nested.stderr, /deprecated/);
    });
  }

  test(`${file}: the equivalence is not vacuous (a nested spec without storageTarget pvc differs)`, async () => {
    const flat = await renderOk(exampleYaml(file));
    const value = nestedEquivalent() as any;
    delete value.cloudProviderSpec.virtualMachine.template.primaryDisk.storageTarget;
    const nested = await renderOk(withValue(loadExample(file), value), ['--namespace', 'kube-system']);
    assert.ok(flat.vm.spec.dataVolumeTemplates[0].spec.pvc, 'the flat spec imports into spec.pvc');
    assert.ok(nested.vm.spec.dataVolumeTemplates[0].spec.storage, 'the nested default is spec.storage');
    assert.not.equal(flat.vm, nested.vm);
  });
}

test('the flat spec also renders the same VM as the nested one with --show-secrets and --with-ownership', async () => {
  const file = 'kubevirt-machinedeployment-2019-kubeconfig.yaml';
  const args = ['--show-secrets', '--with-ownership', '--machine-name', 'node-x'];
  const flat = await renderOk(exampleYaml(file), args);
  const nested = await renderOk(withValue(loadExample(file), nestedEquivalent()), [...args, '--namespace', 'kube-system']);
  assert.equal(flat.vm, nested.vm);
  assert.equal(flat.secret, nested.secret);
});

test.run();
