import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expectIssue, nestedSpec, parseFail, parseOk, vmOf } from './helpers.js';

const VM = 'cloudProviderSpec.virtualMachine';
const withVm = (edit: (vm: Record<string, any>, spec: Record<string, any>) => void) => {
  const v = nestedSpec();
  edit(v.cloudProviderSpec.virtualMachine, v.cloudProviderSpec);
  return v;
};

test('dnsPolicy: the four policies; "" → unset', async () => {
  for (const p of ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default']) {
    assert.is((await vmOf(withVm((vm) => (vm.dnsPolicy = p)))).dnsPolicy, p);
  }
  const none = await vmOf(withVm((vm) => Object.assign(vm, { dnsPolicy: 'None', dnsConfig: { nameservers: ['8.8.8.8'] } })));
  assert.is(none.dnsPolicy, 'None');
  assert.not.ok('dnsPolicy' in (await vmOf(withVm((vm) => (vm.dnsPolicy = '')))));
});

test('dnsPolicy: case-sensitive, unknown rejected with machine-controller wording', async () => {
  for (const p of ['clusterfirst', 'Cluster', 'none']) {
    const i = expectIssue(
      await parseFail(withVm((vm) => (vm.dnsPolicy = p))),
      `${VM}.dnsPolicy`,
      `failed to get dns policy: unknown dns policy: ${p}`,
    );
    assert.is(i.value, p);
  }
  const ref = withVm((vm) => (vm.dnsPolicy = { secretKeyRef: { namespace: 'a', name: 'b', key: 'c' } }));
  expectIssue(await parseFail(ref), `${VM}.dnsPolicy`, 'failed to parse "dnsPolicy" field: error retrieving secret');
});

test('dnsPolicy None needs dnsConfig.nameservers; dnsConfig passes through', async () => {
  expectIssue(
    await parseFail(withVm((vm) => (vm.dnsPolicy = 'None'))),
    `${VM}.dnsConfig`,
    'dns config must be specified when dns policy is None',
  );
  expectIssue(
    await parseFail(withVm((vm) => Object.assign(vm, { dnsPolicy: 'None', dnsConfig: { searches: ['a'] } }))),
    `${VM}.dnsConfig`,
    'dns config must be specified when dns policy is None',
  );
  const cfg = { nameservers: ['1.1.1.1'], searches: ['svc.local'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] };
  assert.equal((await vmOf(withVm((vm) => (vm.dnsConfig = cfg)))).dnsConfig, cfg);
  expectIssue(
    await parseFail(withVm((vm) => (vm.dnsConfig = { servers: ['1.1.1.1'] }))),
    `${VM}.dnsConfig.servers`,
    'json: unknown field "servers"',
  );
});

test('evictionStrategy: default External; External|LiveMigrate; else rejected', async () => {
  assert.is((await vmOf(nestedSpec())).evictionStrategy, 'External');
  assert.is((await vmOf(withVm((vm) => (vm.evictionStrategy = 'External')))).evictionStrategy, 'External');
  assert.is((await vmOf(withVm((vm) => (vm.evictionStrategy = 'LiveMigrate')))).evictionStrategy, 'LiveMigrate');
  for (const s of ['None', 'livemigrate', 'LiveMigrateIfPossible']) {
    expectIssue(
      await parseFail(withVm((vm) => (vm.evictionStrategy = s))),
      `${VM}.evictionStrategy`,
      `unsupported vm eviction strategy: ${s}`,
    );
  }
});

test('enableNetworkMultiQueue: default true; bool or reference; bad values rejected', async () => {
  assert.is((await vmOf(nestedSpec())).networkMultiQueue, true);
  assert.is((await vmOf(withVm((vm) => (vm.enableNetworkMultiQueue = false)))).networkMultiQueue, false);
  assert.is((await vmOf(withVm((vm) => (vm.enableNetworkMultiQueue = { value: true })))).networkMultiQueue, true);
  const ref = withVm((vm) => (vm.enableNetworkMultiQueue = { secretKeyRef: { namespace: 'n', name: 's', key: 'mq' } }));
  assert.is((await vmOf(ref, { secrets: { 'n/s': { mq: 'false' } } })).networkMultiQueue, false);
  expectIssue(
    await parseFail(ref, { secrets: { 'n/s': { mq: 'nope' } } }),
    `${VM}.enableNetworkMultiQueue`,
    // The Secret's value is never quoted: the message names the reference instead.
    'failed to get value of "enableNetworkMultiQueue" field: strconv.ParseBool: parsing "<secretKeyRef n/s[mq]>": invalid syntax',
  );
  expectIssue(
    await parseFail(withVm((vm) => (vm.enableNetworkMultiQueue = 'yes'))),
    `${VM}.enableNetworkMultiQueue`,
    "error parsing value: 'json: cannot unmarshal string into Go value of type bool'",
  );
});

const NAP = 'cloudProviderSpec.affinity.nodeAffinityPreset';
const withPreset = (preset: unknown) => withVm((_, spec) => (spec.affinity = { nodeAffinityPreset: preset }));

test('nodeAffinityPreset: soft/hard (any case), values optional, "" → none', async () => {
  assert.equal((await vmOf(withPreset({ type: 'hard', key: 'key1', values: ['foo1', 'foo2'] }))).nodeAffinity, {
    type: 'hard',
    key: 'key1',
    values: ['foo1', 'foo2'],
  });
  assert.equal((await vmOf(withPreset({ type: 'SOFT', key: 'key1' }))).nodeAffinity, { type: 'soft', key: 'key1', values: [] });
  assert.not.ok('nodeAffinity' in (await vmOf(withPreset({ type: '', key: 'foo', values: ['bar'] }))));
  assert.not.ok('nodeAffinity' in (await vmOf(nestedSpec())));
  const fromRefs = withPreset({ type: 'hard', key: 'k', values: [{ configMapKeyRef: { namespace: 'n', name: 'c', key: 'zone' } }, 'b'] });
  assert.equal((await vmOf(fromRefs, { configMaps: { 'n/c': { zone: 'a' } } })).nodeAffinity?.values, ['a', 'b']);
  expectIssue(
    await parseFail(fromRefs),
    `${NAP}.values[0]`,
    'failed to parse "nodeAffinityPreset" field: failed to parse "nodeAffinity.value" field',
  );
});

test('nodeAffinityPreset: unknown type and missing key rejected', async () => {
  const i = expectIssue(
    await parseFail(withPreset({ type: 'medium', key: 'k' })),
    `${NAP}.type`,
    'failed to parse "nodeAffinityPreset" field: failed to parse "nodeAffinity.type" field: unknown affinityType: medium',
  );
  assert.is(i.value, 'medium');
  expectIssue(await parseFail(withPreset({ type: 'hard' })), `${NAP}.key`, '"nodeAffinity.key" must be set');
});

const TSC = 'cloudProviderSpec.topologySpreadConstraints';
const withTsc = (list: unknown) => withVm((_, spec) => (spec.topologySpreadConstraints = list));

test('topologySpreadConstraints: parsed; maxSkew as string or number; empty → []', async () => {
  const list = [
    { maxSkew: '2', topologyKey: 'key1', whenUnsatisfiable: 'DoNotSchedule' },
    { maxSkew: 3, topologyKey: 'key2', whenUnsatisfiable: 'ScheduleAnyway' },
  ];
  assert.equal((await vmOf(withTsc(list))).topologySpreadConstraints, [
    { maxSkew: 2, topologyKey: 'key1', whenUnsatisfiable: 'DoNotSchedule' },
    { maxSkew: 3, topologyKey: 'key2', whenUnsatisfiable: 'ScheduleAnyway' },
  ]);
  assert.equal((await vmOf(withTsc([]))).topologySpreadConstraints, []);
  assert.equal((await vmOf(nestedSpec())).topologySpreadConstraints, []);
});

test('topologySpreadConstraints: maxSkew must be an int32', async () => {
  for (const [skew, why] of [
    ['x', 'invalid syntax'],
    ['', 'invalid syntax'],
    ['1.5', 'invalid syntax'],
    ['3000000000', 'value out of range'],
  ]) {
    const i = expectIssue(
      await parseFail(withTsc([{ maxSkew: skew, topologyKey: 'k' }])),
      `${TSC}[0].maxSkew`,
      `failed to parse "topologySpreadConstraint.maxSkew" field: strconv.ParseInt: parsing ${JSON.stringify(skew)}: ${why}`,
    );
    assert.is(i.value, skew);
  }
});

test('location and providerNetwork subnet', async () => {
  assert.equal((await vmOf(withVm((vm) => (vm.location = { region: 'europe-central', zone: 'hh' })))).location, {
    region: 'europe-central',
    zone: 'hh',
  });
  assert.equal((await vmOf(withVm((vm) => (vm.location = { zone: 'hh' })))).location, { zone: 'hh' });
  assert.not.ok('location' in (await vmOf(withVm((vm) => (vm.location = {})))));
  const net = withVm((vm) => (vm.providerNetwork = { name: 'kube-ovn', vpc: { name: 'vpc1', subnet: { name: 'test-subnet' } } }));
  assert.is((await vmOf(net)).subnet, 'test-subnet');
  assert.not.ok('subnet' in (await vmOf(withVm((vm) => (vm.providerNetwork = { name: 'kube-ovn', vpc: { name: 'vpc1' } })))));
});

test('deprecated flavor and pod (anti-)affinity presets: accepted, ignored, noted', async () => {
  const v = withVm((vm, spec) => {
    vm.flavor = { name: 'to-deprecate-flavor', profile: 'p' };
    spec.affinity = { podAffinityPreset: 'soft', podAntiAffinityPreset: 'hard' };
  });
  const r = await parseOk(v);
  assert.is(r.deprecations.length, 3);
  assert.ok(
    r.deprecations[0].startsWith('cloudProviderSpec.virtualMachine.flavor is deprecated and ignored since machine-controller 40cb0e45b'),
  );
  assert.ok(r.deprecations.some((d) => d.startsWith('cloudProviderSpec.affinity.podAntiAffinityPreset is deprecated')));
  assert.equal((await parseOk(nestedSpec())).deprecations, []);
});

test('ConfigVar quirks are surfaced as warnings, not errors', async () => {
  const v = withVm((vm) => {
    vm.template.memory = { value: '3Gi', valeu: 'typo' };
    vm.template.cpus = { value: '1', secretKeyRef: { name: 'only-a-name' } };
  });
  const r = await parseOk(v);
  assert.equal(r.config.vm.resources, { cpu: '1', memory: '3Gi' });
  assert.ok(r.warnings?.some((w) => w.includes(`${VM}.template.memory.valeu: unknown field "valeu"`)));
  assert.ok(r.warnings?.some((w) => w.includes(`${VM}.template.cpus.secretKeyRef is ignored`)));
});

test.run();
