/**
 * Golden tests: machine-controller's own provider-test fixtures, rebuilt from the same
 * providerSpecs through our real parser and builder.
 *
 * Fixtures come from the pinned k8c.io/machine-controller module (dev/upstream fetches it; never
 * copied into the repo); the VM CRD schema from KubeVirt's own generator. Three cases also
 * have their expectation written out in mc-cases.ts, checked case-sensitively.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { buildVirtualMachine } from '../../../shared/vm/build-vm.js';
import { loadCrdSchema, schemaViolations } from './crd-schema.js';
import { nominalExpected, testInput } from './factories.js';
import { buildCase, CASES, EXPLICIT_EXPECTED } from './mc-cases.js';
import { formatDifferences, semanticDiff } from './semantic-equal.js';
import { ensureUpstream } from '../../../dev/upstream/index.js';

const upstream = ensureUpstream();
const FIXTURE_DIR = upstream.mcTestdata;
const VM_CRD = path.join(upstream.crdDirs[0]!, 'kubevirt.io_virtualmachines.yaml');

/** KubeVirt decodes the VMI spec case-insensitively; the fixtures rely on it (§10.3). */
const FIXTURE_SEMANTICS = { caseInsensitiveUnder: ['spec.template.spec'] };

const fixtureFiles = readdirSync(FIXTURE_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const fixtureNames = fixtureFiles.map((f) => f.replace(/\.yaml$/, ''));
const vmSchema = loadCrdSchema(VM_CRD, 'v1');

function readFixture(name: string): unknown {
  return parse(readFileSync(path.join(FIXTURE_DIR, `${name}.yaml`), 'utf8'));
}

function assertNoDiff(expected: unknown, actual: unknown, options = {}): void {
  const diffs = semanticDiff(expected, actual, options);
  assert.ok(diffs.length === 0, `differences (- expected, + ours):\n${formatDifferences(diffs)}`);
}

test('the pinned machine-controller module holds its kubevirt fixtures', () => {
  assert.ok(fixtureNames.length >= 15, `found ${fixtureNames.join(', ')}`);
});

test('every fixture has known inputs; every case has a fixture or an explicit expectation', () => {
  for (const name of fixtureNames) assert.ok(name in CASES, `fixture ${name} has no case inputs`);
  for (const name of Object.keys(CASES)) {
    assert.ok(fixtureNames.includes(name) || name in EXPLICIT_EXPECTED, `case ${name} has no expectation`);
  }
});

for (const name of fixtureNames) {
  test(`golden: ${name} matches machine-controller's fixture`, async () => {
    assertNoDiff(readFixture(name), await buildCase(name), FIXTURE_SEMANTICS);
  });
}

for (const [name, expected] of Object.entries(EXPLICIT_EXPECTED)) {
  test(`explicit: ${name} matches the reference (case-sensitive)`, async () => {
    assertNoDiff(expected(), await buildCase(name));
  });
}

test('the hand-written nominal expectation agrees with the nominal fixture', () => {
  // The explicit cases are derived from it, so it must itself be right.
  assertNoDiff(readFixture('nominal-case'), nominalExpected('nominal-case'), FIXTURE_SEMANTICS);
});

test('our output uses the CRD schema`s camelCase keys for every case', async () => {
  for (const name of Object.keys(CASES)) {
    const vm = await buildCase(name);
    const tpl = vm.spec.template.spec as unknown as Record<string, unknown>;
    assert.ok('topologySpreadConstraints' in tpl, `${name}: topologySpreadConstraints`);
    assert.not.ok('topologyspreadconstraints' in tpl, `${name}: lowercase key`);
    assert.equal(schemaViolations(vmSchema, vm), [], name);
  }
});

test('the schema check catches the fixtures` lowercase keys (it can fail)', () => {
  const violations = schemaViolations(vmSchema, readFixture('nominal-case'));
  assert.ok(
    violations.some((v) => v.startsWith('spec.template.spec.topologyspreadconstraints:')),
    violations.join('\n'),
  );
});

test('a VM using every optional branch still conforms to the CRD schema', () => {
  const input = testInput('all-branches');
  const vm = input.config.vm;
  input.config.operatingSystem = 'flatcar';
  vm.instancetype = { name: 'it', kind: 'VirtualMachineClusterInstancetype' };
  vm.preference = { name: 'pref', kind: 'VirtualMachineClusterPreference' };
  vm.cores = 2;
  vm.subnet = 'sub';
  vm.dnsPolicy = 'None';
  vm.dnsConfig = { nameservers: ['1.1.1.1'], searches: ['a'], options: [{ name: 'ndots', value: '1' }] };
  vm.nodeAffinity = { type: 'soft', key: 'k', values: ['v'] };
  vm.topologySpreadConstraints = [{ maxSkew: 2, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' }];
  vm.secondaryDisks = [{ size: '1Gi', storageClassName: '' }];
  vm.primaryDisk.storageTarget = 'pvc';
  vm.primaryDisk.image = {
    osImage: 'https://img/x.qcow2',
    source: 'http',
    pullMethod: 'node',
    extraHeaders: ['A: b'],
    dataVolumeSecretRef: 'basic-auth',
  };
  input.machine.annotations = { 'cdi.kubevirt.io/storage.usePopulator': 'false', other: 'x' };
  input.topologyLabels = { 'topology.kubernetes.io/zone': 'z' };
  input.extraLabels = { own: 'yes' };
  assert.equal(schemaViolations(vmSchema, buildVirtualMachine(input)), []);
});

test.run();
