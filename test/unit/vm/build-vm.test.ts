/**
 * Builder branches the machine-controller fixtures do not reach.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildVirtualMachine } from '../../../shared/vm/build-vm.js';
import type { VmBuildInput } from '../../../shared/vm/types.js';
import { nominalConfig, nominalExpected, testInput } from './factories.js';

const POD_BRIDGE = 'kubevirt.io/allow-pod-bridge-network-live-migration';
const OVN_MIGRATION = 'ovn.kubernetes.io/allow_live_migration';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

test('nominal input builds exactly the nominal VM (strict, case-sensitive)', () => {
  assert.equal(buildVirtualMachine(testInput('nominal-case')), nominalExpected('nominal-case'));
});

test('flatcar: ignition data and PCI root-complex annotations; cloud-init Secret still referenced', () => {
  const input = testInput('fc');
  input.config.operatingSystem = 'flatcar';
  input.userdata = '{"ignition":{"version":"3.3.0"}}';
  const vm = buildVirtualMachine(input);
  assert.equal(vm.spec.template.metadata.annotations, {
    'kubevirt.io/ignitiondata': '{"ignition":{"version":"3.3.0"}}',
    'kubevirt.io/placePCIDevicesOnRootComplex': 'true',
    [POD_BRIDGE]: 'true',
    [OVN_MIGRATION]: 'true',
  });
  assert.equal(vm.spec.template.spec.volumes[1], {
    name: 'cloudinitdisk',
    cloudInitNoCloud: { secretRef: { name: 'udsn' } },
  });
  assert.is(vm.metadata.annotations, undefined, 'no annotations on the VM object itself');
});

test('non-flatcar OS: userdata never appears in annotations', () => {
  const vm = buildVirtualMachine(testInput('u'));
  assert.not.ok(JSON.stringify(vm).includes('fake-userdata'));
});

test('soft affinity: preferred term with weight 1, In with values / Exists without', () => {
  const input = testInput('soft');
  input.config.vm.nodeAffinity = { type: 'soft', key: 'zone', values: ['a', 'b'] };
  assert.equal(buildVirtualMachine(input).spec.template.spec.affinity, {
    nodeAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 1, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] } },
      ],
    },
  });
  input.config.vm.nodeAffinity = { type: 'soft', key: 'gpu', values: [] };
  assert.equal(buildVirtualMachine(input).spec.template.spec.affinity, {
    nodeAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 1, preference: { matchExpressions: [{ key: 'gpu', operator: 'Exists' }] } },
      ],
    },
  });
});

test('dnsPolicy and dnsConfig are set when configured, absent otherwise', () => {
  const input = testInput('dns');
  input.config.vm.dnsPolicy = 'None';
  input.config.vm.dnsConfig = { nameservers: ['8.8.8.8'], searches: ['svc.local'], options: [{ name: 'ndots', value: '2' }] };
  const spec = buildVirtualMachine(input).spec.template.spec;
  assert.is(spec.dnsPolicy, 'None');
  assert.equal(spec.dnsConfig, { nameservers: ['8.8.8.8'], searches: ['svc.local'], options: [{ name: 'ndots', value: '2' }] });
  assert.not.ok(spec.dnsConfig === input.config.vm.dnsConfig, 'dnsConfig is copied, not aliased');

  const plain = buildVirtualMachine(testInput('dns2')).spec.template.spec;
  assert.not.ok('dnsPolicy' in plain);
  assert.not.ok('dnsConfig' in plain);
});

test('label precedence: topology < location < machine labels < fixed labels', () => {
  const input = testInput('loc');
  input.topologyLabels = {
    'topology.kubernetes.io/region': 'sc-region',
    'topology.kubernetes.io/zone': 'sc-zone',
  };
  input.config.vm.location = { region: 'europe-central', zone: 'hh' };
  let labels = buildVirtualMachine(input).metadata.labels;
  assert.is(labels['topology.kubernetes.io/region'], 'europe-central');
  assert.is(labels['topology.kubernetes.io/zone'], 'hh');

  // Only the configured half of the location overrides.
  input.config.vm.location = { zone: 'hh' };
  labels = buildVirtualMachine(input).spec.template.metadata.labels;
  assert.is(labels['topology.kubernetes.io/region'], 'sc-region');
  assert.is(labels['topology.kubernetes.io/zone'], 'hh');

  // Machine labels are copied after the location, but cannot hide the fixed labels.
  input.machine.labels = {
    'topology.kubernetes.io/zone': 'from-machine',
    'kubevirt.io/vm': 'spoofed',
    'cluster.x-k8s.io/role': 'control-plane',
    team: 'a',
  };
  labels = buildVirtualMachine(input).metadata.labels;
  assert.is(labels['topology.kubernetes.io/zone'], 'from-machine');
  assert.is(labels['kubevirt.io/vm'], 'loc');
  assert.is(labels['cluster.x-k8s.io/role'], 'worker');
  assert.is(labels.team, 'a');
});

test('extraLabels go on the VM metadata only, and win there', () => {
  const input = testInput('own');
  input.machine.labels = { 'app.kubernetes.io/managed-by': 'someone-else' };
  input.extraLabels = {
    'kubevirt-machine-functions.io/machine-uid': 'uid-1',
    'app.kubernetes.io/managed-by': 'kubevirt-machine-functions',
  };
  const vm = buildVirtualMachine(input);
  assert.is(vm.metadata.labels['kubevirt-machine-functions.io/machine-uid'], 'uid-1');
  assert.is(vm.metadata.labels['app.kubernetes.io/managed-by'], 'kubevirt-machine-functions');
  const tpl = vm.spec.template.metadata.labels;
  assert.not.ok('kubevirt-machine-functions.io/machine-uid' in tpl);
  assert.is(tpl['app.kubernetes.io/managed-by'], 'someone-else');
  assert.is(vm.metadata.labels['kubevirt.io/vm'], 'own');
});

test('machine annotations: cdi.kubevirt.io* to the primary DataVolume, the rest to the template', () => {
  const input = testInput('ann');
  input.config.vm.secondaryDisks = [{ size: '5Gi', storageClassName: 'sc' }];
  input.machine.annotations = {
    'cdi.kubevirt.io/storage.bind.immediate.requested': 'true',
    'cdi.kubevirt.io/storage.usePopulator': 'false',
    'example.com/note': 'hello',
    // Applied after ours, as in machine-controller, so it replaces the fixed value.
    [OVN_MIGRATION]: 'false',
  };
  const vm = buildVirtualMachine(input);
  assert.equal(vm.spec.template.metadata.annotations, {
    [POD_BRIDGE]: 'true',
    [OVN_MIGRATION]: 'false',
    'example.com/note': 'hello',
  });
  assert.equal(vm.spec.dataVolumeTemplates[0]!.metadata.annotations, {
    'cdi.kubevirt.io/storage.bind.immediate.requested': 'true',
    'cdi.kubevirt.io/storage.usePopulator': 'false',
  });
  assert.equal(vm.spec.dataVolumeTemplates[1]!.metadata, { name: 'ann-secondarydisk0' });
});

test('no cdi annotations: the primary DataVolume metadata has no annotations key', () => {
  const input = testInput('noann');
  input.machine.annotations = { 'example.com/x': 'y' };
  assert.equal(buildVirtualMachine(input).spec.dataVolumeTemplates[0]!.metadata, { name: 'noann' });
});

test('instancetype and preference: passed through, no domain resources', () => {
  const input = testInput('it');
  input.config.vm.instancetype = { name: 'standard-it', kind: 'VirtualMachineInstancetype' };
  input.config.vm.preference = { name: 'standard-pref', kind: 'VirtualMachinePreference' };
  // Even if resources were left in the model, an instancetype wins.
  const vm = buildVirtualMachine(input);
  assert.equal(vm.spec.instancetype, { name: 'standard-it', kind: 'VirtualMachineInstancetype' });
  assert.equal(vm.spec.preference, { name: 'standard-pref', kind: 'VirtualMachinePreference' });
  assert.not.ok('resources' in vm.spec.template.spec.domain);
  assert.not.ok('cpu' in vm.spec.template.spec.domain);

  input.config.vm.resources = undefined;
  assert.not.ok('resources' in buildVirtualMachine(input).spec.template.spec.domain);
});

test('without instancetype or preference the keys are absent', () => {
  const vm = buildVirtualMachine(testInput('plain'));
  assert.not.ok('instancetype' in vm.spec);
  assert.not.ok('preference' in vm.spec);
});

test('vcpus.cores: domain.cpu.cores and memory-only resources, even if a cpu slipped through', () => {
  const input = testInput('cores');
  input.config.vm.cores = 4;
  const domain = buildVirtualMachine(input).spec.template.spec.domain;
  assert.equal(domain.cpu, { cores: 4 });
  assert.equal(domain.resources, { requests: { memory: '2Gi' }, limits: { memory: '2Gi' } });
  assert.not.ok(domain.resources!.requests === domain.resources!.limits, 'requests and limits are separate maps');
});

test('unknown MachineDeployment: no md label, selector md "" (or a Machine md label)', () => {
  const input = testInput('nomd');
  delete input.machineDeploymentName;
  let vm = buildVirtualMachine(input);
  assert.not.ok('md' in vm.metadata.labels);
  assert.equal(vm.spec.template.spec.topologySpreadConstraints[0]!.labelSelector, { matchLabels: { md: '' } });

  input.machine.labels = { md: 'from-label' };
  vm = buildVirtualMachine(input);
  assert.equal(vm.spec.template.spec.topologySpreadConstraints[0]!.labelSelector, { matchLabels: { md: 'from-label' } });
});

test('kube-ovn subnet with multiqueue disabled', () => {
  const input = testInput('ovn');
  input.config.vm.subnet = 'sub1';
  input.config.vm.networkMultiQueue = false;
  const vm = buildVirtualMachine(input);
  assert.is(vm.spec.runStrategy, 'Always');
  assert.is(vm.spec.template.metadata.annotations['ovn.kubernetes.io/logical_switch'], 'sub1');
  assert.is(vm.spec.template.spec.domain.devices.networkInterfaceMultiqueue, false);
});

test('storageTarget pvc puts the primary request under spec.pvc', () => {
  const input = testInput('pvc');
  input.config.vm.primaryDisk.storageTarget = 'pvc';
  input.primaryAccessMode = 'ReadWriteOnce';
  const spec = buildVirtualMachine(input).spec.dataVolumeTemplates[0]!.spec;
  assert.not.ok('storage' in spec);
  assert.equal(spec.pvc, {
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: '10Gi' } },
    storageClassName: 'longhorn',
  });
});

test('secondary disks: pvc, primary access mode, OS image source (machine-controller quirks)', () => {
  const input = testInput('sd');
  input.config.vm.primaryDisk.image = { osImage: 'docker://r/img:1', source: 'registry', pullMethod: 'pod' };
  input.config.vm.secondaryDisks = [{ size: '1Gi', storageClassName: 'fast', storageAccessType: 'ReadWriteOnce' }];
  input.primaryAccessMode = 'ReadWriteMany';
  input.secondaryAccessModes = ['ReadWriteOnce'];
  const vm = buildVirtualMachine(input);
  assert.equal(vm.spec.dataVolumeTemplates[1], {
    metadata: { name: 'sd-secondarydisk0' },
    spec: {
      source: { registry: { url: 'docker://r/img:1', pullMethod: 'pod' } },
      pvc: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'fast' },
    },
  });
  assert.not.ok(
    vm.spec.dataVolumeTemplates[0]!.spec.source === vm.spec.dataVolumeTemplates[1]!.spec.source,
    'templates do not share a source object',
  );
  assert.equal(
    vm.spec.template.spec.domain.devices.disks.map((d) => d.name),
    ['datavolumedisk', 'cloudinitdisk', 'sd-secondarydisk0'],
  );
  assert.equal(vm.spec.template.spec.volumes[2], { name: 'sd-secondarydisk0', dataVolume: { name: 'sd-secondarydisk0' } });
});

test('pure: a frozen input builds, twice the same, and the output aliases nothing of the input', () => {
  const input: VmBuildInput = deepFreeze({
    ...testInput('pure', nominalConfig()),
    machine: { name: 'pure', namespace: 'kubevirt', labels: { a: 'b' }, annotations: { 'cdi.kubevirt.io/x': 'y', c: 'd' } },
    topologyLabels: { 'topology.kubernetes.io/zone': 'z' },
    extraLabels: { own: 'yes' },
  });
  const first = buildVirtualMachine(input);
  const second = buildVirtualMachine(input);
  assert.equal(first, second);
  // Mutating every nested object of the output must be possible (nothing frozen is shared).
  const touch = (v: unknown): void => {
    if (typeof v !== 'object' || v === null) return;
    for (const child of Object.values(v)) touch(child);
    (v as Record<string, unknown>)['__touched'] = true;
  };
  touch(first);
  assert.not.ok(first.spec.template.metadata.labels === (first.metadata.labels as unknown));
});

test.run();
