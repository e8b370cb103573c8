/**
 * Every example MachineDeployment (machine-controller's from its pinned module, our flat 2019
 * ones; placeholders replaced) renders: exit 0, one VirtualMachine and its userdata Secret.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { exampleFiles, exampleYaml, loadExample, renderOk } from './support.js';

const files = exampleFiles();

test('the upstream examples are present', () => {
  assert.ok(files.length >= 4, `expected machine-controller's examples and ours: ${files.join(', ')}`);
  for (const f of [
    'kubevirt-machinedeployment.yaml',
    'kubevirt-machinedeployment-2019-kubeconfig.yaml',
    'kubevirt-machinedeployment-2019-sourceurl.yaml',
  ]) {
    assert.ok(files.includes(f), `missing ${f}`);
  }
});

for (const file of files) {
  test(`${file} renders a VirtualMachine and its userdata Secret`, async () => {
    const md = loadExample(file);
    const { vm, secret, stderr } = await renderOk(exampleYaml(file), [], {});
    const machine = `${md.metadata.name}-0`;

    assert.is(vm.apiVersion, 'kubevirt.io/v1');
    assert.is(vm.metadata.name, machine);
    // Every example's infra namespace is kube-system: the flat spec names it, the default is it.
    assert.is(vm.metadata.namespace, 'kube-system');
    assert.is(vm.metadata.labels.md, md.metadata.name);
    assert.is(vm.metadata.labels['kubevirt.io/vm'], machine);

    const osImage =
      md.spec.template.spec.providerSpec.value.cloudProviderSpec.virtualMachine?.template.primaryDisk.osImage ??
      md.spec.template.spec.providerSpec.value.cloudProviderSpec.sourceURL;
    assert.equal(vm.spec.dataVolumeTemplates[0].spec.source, { http: { url: osImage } });
    assert.is(vm.spec.dataVolumeTemplates[0].metadata.name, machine);

    const volumes = vm.spec.template.spec.volumes;
    assert.equal(volumes.find((v: any) => v.name === 'cloudinitdisk').cloudInitNoCloud, { secretRef: { name: `userdata-${machine}` } });
    assert.is(secret.metadata.name, `userdata-${machine}`);
    assert.is(secret.metadata.namespace, 'kube-system');
    assert.equal(secret.data, { userdata: '<redacted>' });

    if (file.includes('2019')) assert.match(stderr, /deprecated: cloudProviderSpec\.sourceURL is deprecated/);
    else assert.not.match(stderr, /deprecated/);
  });
}

test('the newest example: instancetype and preference, its warning about ignored cpus/memory is shown', async () => {
  const { vm, stderr } = await renderOk(exampleYaml('kubevirt-machinedeployment.yaml'));
  assert.equal(vm.spec.instancetype, { name: 'standard-2', kind: 'VirtualMachineInstancetype' });
  assert.equal(vm.spec.preference, { name: 'sockets-advantage', kind: 'VirtualMachinePreference' });
  assert.is(vm.spec.template.spec.domain.resources, undefined, 'no resources next to an instancetype');
  assert.is(vm.metadata.labels['cluster.x-k8s.io/cluster-name'], 'cluster-name');
  assert.match(
    stderr,
    /warning: cloudProviderSpec\.virtualMachine\.template: cpus, memory and vcpus are ignored because an instancetype is set/,
  );
});

test('the e2e example: dnsPolicy None with its nameservers, storage target by default', async () => {
  const { vm } = await renderOk(exampleYaml('e2e-machinedeployment-kubevirt.yaml'));
  assert.is(vm.metadata.name, 'kubevirt-e2e-0');
  assert.is(vm.spec.template.spec.dnsPolicy, 'None');
  assert.equal(vm.spec.template.spec.dnsConfig, { nameservers: ['8.8.8.8'] });
  assert.equal(vm.spec.template.spec.domain.resources.requests, { cpu: '1', memory: '4096M' });
  const dv = vm.spec.dataVolumeTemplates[0].spec;
  assert.equal(dv.storage, {
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: '25Gi' } },
    storageClassName: 'local-path',
  });
  assert.is(dv.pvc, undefined);
});

test.run();
