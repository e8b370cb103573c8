import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseProviderSpec } from '../../../shared/providerspec/parse.js';
import { SUPPORTED_OS } from '../../../shared/providerspec/types.js';
import { expectIssue, fakeResolver, nestedSpec, parseFail, parseOk } from './helpers.js';

test('nil value → machine-controller message', async () => {
  for (const v of [null, undefined]) {
    const r = await parseProviderSpec(v, fakeResolver());
    assert.equal(r, { ok: false, issues: [{ path: '', value: v, message: 'machine.spec.providerSpec.value is nil' }] });
  }
});

test('a value that is not an object is a decode error', async () => {
  const issues = await parseFail('cloudProvider: kubevirt');
  assert.match(issues[0].message, 'json: cannot unmarshal string into Go value of type providerconfig.Config');
});

test('cloudProvider: kubevirt ok, anything else rejected (spec not interpreted)', async () => {
  await parseOk(nestedSpec());
  const v = nestedSpec();
  v.cloudProvider = 'aws';
  v.cloudProviderSpec = { region: 'eu' }; // not kubevirt's schema: must not produce noise
  const issues = await parseFail(v);
  assert.is(issues.length, 1);
  const i = expectIssue(issues, 'cloudProvider', 'unsupported cloud provider "aws"');
  assert.is(i.value, 'aws');
});

test('operatingSystem: each supported OS ok', async () => {
  for (const os of SUPPORTED_OS) {
    const v = nestedSpec();
    v.operatingSystem = os;
    assert.is((await parseOk(v)).config.operatingSystem, os);
  }
});

test('operatingSystem: unsupported ones rejected with machine-controller wording', async () => {
  for (const os of ['centos', 'amzn2', 'Ubuntu', '']) {
    const v = nestedSpec();
    v.operatingSystem = os;
    const i = expectIssue(
      await parseFail(v),
      'operatingSystem',
      `invalid/not supported operating system specified ${JSON.stringify(os)}: os not supported`,
    );
    assert.is(i.value, os);
  }
});

test('operatingSystemSpec: required; {} accepted as in Go; must be an object', async () => {
  const v = nestedSpec();
  delete v.operatingSystemSpec;
  expectIssue(await parseFail(v), 'operatingSystemSpec', 'operatingSystemSpec in the MachineDeployment cannot be empty');
  v.operatingSystemSpec = null;
  expectIssue(await parseFail(v), 'operatingSystemSpec', 'operatingSystemSpec in the MachineDeployment cannot be empty');
  v.operatingSystemSpec = {};
  assert.equal((await parseOk(v)).config.operatingSystemSpec, {});
  v.operatingSystemSpec = 'distUpgradeOnBoot';
  expectIssue(await parseFail(v), 'operatingSystemSpec', 'cannot unmarshal string');
  v.operatingSystemSpec = { distUpgradeOnBoot: true, rhsmOfflineToken: 't' };
  assert.equal((await parseOk(v)).config.operatingSystemSpec, { distUpgradeOnBoot: true, rhsmOfflineToken: 't' });
});

test('envelope fields pass through', async () => {
  const v = nestedSpec();
  v.caPublicKey = 'ssh-rsa CA';
  v.network = { cidr: '10.0.0.5/24', gateway: '10.0.0.1', dns: { servers: ['10.0.0.2'] }, ipFamily: 'IPv4' };
  v.overwriteCloudConfig = '';
  v.sshPublicKeys = ['k1', 'k2'];
  const c = (await parseOk(v)).config;
  assert.is(c.caPublicKey, 'ssh-rsa CA');
  assert.equal(c.network, v.network);
  assert.is(c.overwriteCloudConfig, '');
  assert.equal(c.sshPublicKeys, ['k1', 'k2']);
  delete v.sshPublicKeys;
  assert.equal((await parseOk(v)).config.sshPublicKeys, []);
  v.network = { cidr: '10.0.0.5/24', mtu: 1500 };
  expectIssue(await parseFail(v), 'network.mtu', 'json: unknown field "mtu"');
});

test('cloudProviderSpec missing → issue', async () => {
  const v = nestedSpec();
  delete v.cloudProviderSpec;
  expectIssue(await parseFail(v), 'cloudProviderSpec', 'unexpected end of JSON input');
});

test('all issues are collected in one pass', async () => {
  const v = nestedSpec();
  v.operatingSystem = 'windows';
  delete v.operatingSystemSpec;
  const tpl = v.cloudProviderSpec.virtualMachine.template;
  tpl.memory = 'lots';
  tpl.primaryDisk.size = 'big';
  v.cloudProviderSpec.virtualMachine.dnsPolicy = 'Google';
  const issues = await parseFail(v);
  assert.equal(issues.map((i) => i.path).sort(), [
    'cloudProviderSpec.virtualMachine.dnsPolicy',
    'cloudProviderSpec.virtualMachine.template.memory',
    'cloudProviderSpec.virtualMachine.template.primaryDisk.size',
    'operatingSystem',
    'operatingSystemSpec',
  ]);
  for (const i of issues) assert.ok(i.message.startsWith(`${i.path}: `), i.message);
});

test.run();
