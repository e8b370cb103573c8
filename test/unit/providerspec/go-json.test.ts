import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { canonicaliseKeys, decodeIssues, foldName, goStruct, goString } from '../../../shared/providerspec/go-json.js';
import { nestedSpecSchema } from '../../../shared/providerspec/provider-spec.js';
import { expectIssue, nestedSpec, parseFail, parseOk } from './helpers.js';

test('canonicaliseKeys: exact match wins, folded keys map to the field, unknown keys keep their spelling', () => {
  const out = canonicaliseKeys({ CPUs: '1', Memory: '2Gi', foo: 1 }, ['cpus', 'memory']);
  assert.equal(out, { cpus: '1', memory: '2Gi', foo: 1 });
  // Go: two keys folding to one field → the later one wins.
  assert.equal(canonicaliseKeys({ cpus: '1', CPUS: '2' }, ['cpus']), { cpus: '2' });
  // An exact match is used even when the field list has a case-variant twin.
  assert.equal(canonicaliseKeys({ Name: 'x' }, ['name', 'Name']), { Name: 'x' });
});

test('canonicaliseKeys: null members are dropped (Go leaves the zero value)', () => {
  assert.equal(canonicaliseKeys({ cpus: null, memory: '1Gi' }, ['cpus', 'memory']), { memory: '1Gi' });
});

test('canonicaliseKeys: a "__proto__" key stays a plain (unknown) key', () => {
  const input = JSON.parse('{"__proto__": {"polluted": true}, "cpus": "1"}');
  const out = canonicaliseKeys(input, ['cpus']);
  assert.is(Object.getPrototypeOf(out), Object.prototype);
  assert.ok(Object.keys(out).includes('__proto__'));
  assert.is(({} as Record<string, unknown>).polluted, undefined);
});

test('foldName folds the long s like Go', () => {
  assert.is(foldName('\u017fize'), foldName('SIZE'));
});

test('goStruct: strict, with Go messages and paths', () => {
  const s = goStruct('T', { name: goString });
  const r = s.safeParse({ NAME: 'a', extra: 1, other: 2 }, { reportInput: true });
  assert.not.ok(r.success);
  const issues = decodeIssues(r.error!.issues, 'root', { NAME: 'a', extra: 1, other: 2 });
  assert.equal(
    issues.map((i) => i.path),
    ['root.extra', 'root.other'],
  );
  assert.is(issues[0].message, 'root.extra: json: unknown field "extra"');
  // The value of an unknown member is never shown (it could be a misspelt kubeconfig).
  assert.is(issues[0].value, 'extra');
  assert.equal(s.parse({ NAME: 'a' }), { name: 'a' });
  const t = s.safeParse('x');
  assert.match(t.error!.issues[0].message, 'json: cannot unmarshal string into Go value of type T');
});

test('case-insensitive keys across the whole providerSpec (CPUs = cpus)', async () => {
  const v = nestedSpec();
  const spec = v.cloudProviderSpec;
  v.CloudProviderSpec = spec;
  delete v.cloudProviderSpec;
  spec.VirtualMachine = spec.virtualMachine;
  delete spec.virtualMachine;
  const tpl = spec.VirtualMachine.template;
  tpl.CPUs = tpl.cpus;
  delete tpl.cpus;
  tpl.MEMORY = '3Gi';
  delete tpl.memory;
  tpl.PrimaryDisk = { ...tpl.primaryDisk, Size: '20Gi', osimage: 'http://h/i.img' };
  delete tpl.primaryDisk;
  delete tpl.PrimaryDisk.size;
  delete tpl.PrimaryDisk.osImage;
  v.OperatingSystem = 'ubuntu';
  delete v.operatingSystem;
  const r = await parseOk(v);
  assert.equal(r.config.vm.resources, { cpu: '2', memory: '3Gi' });
  assert.is(r.config.vm.primaryDisk.size, '20Gi');
  assert.is(r.config.vm.primaryDisk.image.osImage, 'http://h/i.img');
  assert.is(r.config.operatingSystem, 'ubuntu');
});

test('unknown fields are rejected at every level with their path', async () => {
  const v = nestedSpec();
  v.bogus = 1;
  v.cloudProviderSpec.virtualMachine.template.primaryDisk.sizeGB = 10;
  v.cloudProviderSpec.virtualMachine.colour = 'blue';
  const envIssues = await parseFail(v);
  expectIssue(envIssues, 'bogus', 'json: unknown field "bogus"');
  delete v.bogus;
  const issues = await parseFail(v);
  expectIssue(issues, 'cloudProviderSpec.virtualMachine.template.primaryDisk.sizeGB', 'json: unknown field "sizeGB"');
  expectIssue(issues, 'cloudProviderSpec.virtualMachine.colour', 'json: unknown field "colour"');
});

test('wrong JSON kinds are rejected with Go-style messages', async () => {
  const v = nestedSpec();
  v.cloudProviderSpec.virtualMachine.template.primaryDisk.extraHeaders = 'Authorization: x';
  v.cloudProviderSpec.virtualMachine.location = { region: 5 };
  v.cloudProviderSpec.virtualMachine.template.vcpus = { cores: '2' };
  const issues = await parseFail(v);
  expectIssue(
    issues,
    'cloudProviderSpec.virtualMachine.template.primaryDisk.extraHeaders',
    'json: cannot unmarshal string into Go value of type []string',
  );
  expectIssue(issues, 'cloudProviderSpec.virtualMachine.location.region', 'json: cannot unmarshal number into Go value of type string');
  expectIssue(issues, 'cloudProviderSpec.virtualMachine.template.vcpus.cores', 'json: cannot unmarshal string into Go value of type int');
});

test('every documented nested field decodes', () => {
  const full = {
    clusterName: 'c',
    projectID: 'p',
    auth: { kubeconfig: 'x' },
    virtualMachine: {
      flavor: { name: 'f', profile: 'p' },
      instancetype: {
        name: 'i',
        kind: 'VirtualMachineInstancetype',
        revisionName: 'r',
        inferFromVolume: 'v',
        inferFromVolumeFailurePolicy: 'Ignore',
      },
      preference: { name: 'p', kind: 'VirtualMachinePreference' },
      template: {
        cpus: '1',
        memory: '1Gi',
        vcpus: { cores: 2 },
        primaryDisk: {
          osImage: 'o',
          size: '1Gi',
          storageClassName: 's',
          storageAccessType: 'ReadWriteOnce',
          storageTarget: 'pvc',
          source: 'http',
          pullMethod: 'node',
          extraHeaders: ['a: b'],
          extraHeadersSecretRef: 'e',
          dataVolumeSecretRef: 'd',
        },
        secondaryDisks: [{ size: '1Gi', storageClassName: 's', storageAccessType: 'ReadWriteMany' }],
      },
      dnsPolicy: 'None',
      dnsConfig: { nameservers: ['1.1.1.1'], searches: ['a'], options: [{ name: 'ndots', value: '2' }] },
      location: { region: 'r', zone: 'z' },
      providerNetwork: { name: 'n', vpc: { name: 'v', subnet: { name: 's' } } },
      enableNetworkMultiQueue: false,
      evictionStrategy: 'LiveMigrate',
    },
    affinity: { podAffinityPreset: 'soft', podAntiAffinityPreset: 'hard', nodeAffinityPreset: { type: 'hard', key: 'k', values: ['v'] } },
    topologySpreadConstraints: [{ maxSkew: '1', topologyKey: 'k', whenUnsatisfiable: 'DoNotSchedule' }],
  };
  const r = nestedSpecSchema.safeParse(full);
  assert.ok(r.success, JSON.stringify(r.error?.issues));
});

test.run();
