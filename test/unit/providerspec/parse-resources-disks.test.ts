import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { QUANTITY_FORMAT_ERROR } from '../../../shared/providerspec/quantity.js';
import { expectIssue, nestedSpec, parseFail, parseOk, vmOf } from './helpers.js';

const TPL = 'cloudProviderSpec.virtualMachine.template';
const PD = `${TPL}.primaryDisk`;
/** A fresh spec with `edit` applied to its template. */
const withTemplate = (edit: (tpl: Record<string, any>, vm: Record<string, any>) => void) => {
  const v = nestedSpec();
  edit(v.cloudProviderSpec.virtualMachine.template, v.cloudProviderSpec.virtualMachine);
  return v;
};

test('cpus/memory: valid quantities → requests = limits model', async () => {
  assert.equal((await vmOf(nestedSpec())).resources, { cpu: '2', memory: '2Gi' });
  assert.equal((await vmOf(withTemplate((t) => Object.assign(t, { cpus: 1, memory: '2048M' })))).resources, { cpu: '1', memory: '2048M' });
  assert.equal((await vmOf(withTemplate((t) => Object.assign(t, { cpus: '500m' })))).resources?.cpu, '500m');
});

test('cpus: required, must be a quantity, must not be zero', async () => {
  const missing = await parseFail(withTemplate((t) => delete t.cpus));
  expectIssue(
    missing,
    `${TPL}.cpus`,
    `failed to configure resource requests and limits and vcpus: failed to parse cpu requests: ${QUANTITY_FORMAT_ERROR}`,
  );
  expectIssue(await parseFail(withTemplate((t) => (t.cpus = 'two'))), `${TPL}.cpus`, 'failed to parse cpu requests');
  const zero = expectIssue(
    await parseFail(withTemplate((t) => (t.cpus = '0'))),
    `${TPL}.cpus`,
    'no CPUs configured. Either vCPUs or CPUs have to be set',
  );
  assert.is(zero.value, '0');
  assert.match(zero.message, '(value: "0")');
  expectIssue(await parseFail(withTemplate((t) => (t.cpus = '-1'))), `${TPL}.cpus`, 'must not be negative');
});

test('memory: required unless instancetype, must be a quantity', async () => {
  const i = expectIssue(
    await parseFail(withTemplate((t) => (t.memory = '2 GB'))),
    `${TPL}.memory`,
    'failed to parse memory requests: quantities must match the regular expression',
  );
  assert.is(i.value, '2 GB');
  assert.match(i.message, '(value: "2 GB")');
  expectIssue(await parseFail(withTemplate((t) => delete t.memory)), `${TPL}.memory`, 'failed to parse memory requests');
});

test('cpus/memory from a Secret; resolution errors wrapped', async () => {
  const v = withTemplate((t) => (t.cpus = { secretKeyRef: { namespace: 'ns', name: 'sizes', key: 'cpus' } }));
  assert.equal((await vmOf(v, { secrets: { 'ns/sizes': { cpus: '4' } } })).resources, { cpu: '4', memory: '2Gi' });
  expectIssue(await parseFail(v), `${TPL}.cpus`, `failed to get value of "cpus" field: error retrieving secret 'sizes'`);
});

test('vcpus.cores ≠ 0: cores set, cpus not required and dropped, memory only', async () => {
  const vm = await vmOf(withTemplate((t) => Object.assign(t, { vcpus: { cores: 2 }, cpus: undefined })));
  assert.equal(vm.resources, { memory: '2Gi' });
  assert.is(vm.cores, 2);
  const r = await parseOk(withTemplate((t) => (t.vcpus = { cores: 4 })));
  assert.equal(r.config.vm.resources, { memory: '2Gi' });
  assert.ok(r.warnings?.some((w) => w.includes('cpus is ignored because vcpus.cores is set')));
  assert.equal((await vmOf(withTemplate((t) => (t.vcpus = { cores: 0 })))).resources, { cpu: '2', memory: '2Gi' });
  expectIssue(await parseFail(withTemplate((t) => (t.vcpus = { cores: -1 }))), `${TPL}.vcpus.cores`, 'must not be negative');
});

test('instancetype set: cpus/memory neither required nor parsed; matcher passed through', async () => {
  const v = withTemplate((t, vm) => {
    delete t.cpus;
    t.memory = 'not-parsed';
    vm.instancetype = {
      name: 'standard-2',
      kind: 'VirtualMachineInstancetype',
      revisionName: 'r1',
      inferFromVolume: 'disk',
      inferFromVolumeFailurePolicy: 'Ignore',
    };
    vm.preference = { name: 'sockets-advantage', kind: 'VirtualMachinePreference' };
  });
  const vm = await vmOf(v);
  assert.is(vm.resources, undefined);
  assert.equal(vm.instancetype, {
    name: 'standard-2',
    kind: 'VirtualMachineInstancetype',
    revisionName: 'r1',
    inferFromVolume: 'disk',
    inferFromVolumeFailurePolicy: 'Ignore',
  });
  assert.equal(vm.preference, { name: 'sockets-advantage', kind: 'VirtualMachinePreference' });
  const noName = withTemplate((_, vm) => (vm.instancetype = { kind: 'VirtualMachineInstancetype' }));
  expectIssue(await parseFail(noName), 'cloudProviderSpec.virtualMachine.instancetype', 'a name (or inferFromVolume) is required');
});

test('primaryDisk.size: required quantity, legacy "pvcSize" wording', async () => {
  assert.is((await vmOf(nestedSpec())).primaryDisk.size, '10Gi');
  const i = expectIssue(
    await parseFail(withTemplate((t) => (t.primaryDisk.size = '10 Gi'))),
    `${PD}.size`,
    `failed to parse value of "pvcSize" field: ${QUANTITY_FORMAT_ERROR}`,
  );
  assert.is(i.value, '10 Gi');
  expectIssue(await parseFail(withTemplate((t) => delete t.primaryDisk.size)), `${PD}.size`, 'failed to parse value of "pvcSize" field');
  expectIssue(await parseFail(withTemplate((t) => (t.primaryDisk.size = '10Gm'))), `${PD}.size`, "unable to parse quantity's suffix");
});

test('primaryDisk.storageClassName and storageAccessType ("" stays undefined)', async () => {
  const pd = (await vmOf(nestedSpec())).primaryDisk;
  assert.is(pd.storageClassName, 'longhorn');
  assert.is(pd.storageAccessType, undefined);
  assert.not.ok('storageAccessType' in pd);
  assert.is(
    (await vmOf(withTemplate((t) => (t.primaryDisk.storageAccessType = 'ReadWriteMany')))).primaryDisk.storageAccessType,
    'ReadWriteMany',
  );
  assert.is((await vmOf(withTemplate((t) => delete t.primaryDisk.storageClassName))).primaryDisk.storageClassName, '');
  const ref = withTemplate((t) => (t.primaryDisk.storageClassName = { configMapKeyRef: { namespace: 'n', name: 'c', key: 'k' } }));
  expectIssue(await parseFail(ref), `${PD}.storageClassName`, 'failed to get value of "storageClassName" field');
  // machine-controller ignores access-type resolution errors (the StorageProfile decides).
  const at = await parseOk(
    withTemplate((t) => (t.primaryDisk.storageAccessType = { secretKeyRef: { namespace: 'n', name: 's', key: 'k' } })),
  );
  assert.is(at.config.vm.primaryDisk.storageAccessType, undefined);
  assert.ok(at.warnings?.some((w) => w.includes('storageAccessType')));
});

test('primaryDisk.storageTarget: "pvc" → pvc, anything else → storage', async () => {
  assert.is((await vmOf(nestedSpec())).primaryDisk.storageTarget, 'storage');
  assert.is((await vmOf(withTemplate((t) => (t.primaryDisk.storageTarget = 'pvc')))).primaryDisk.storageTarget, 'pvc');
  assert.is((await vmOf(withTemplate((t) => (t.primaryDisk.storageTarget = 'storage')))).primaryDisk.storageTarget, 'storage');
  const odd = await parseOk(withTemplate((t) => (t.primaryDisk.storageTarget = 'PVC')));
  assert.is(odd.config.vm.primaryDisk.storageTarget, 'storage');
  assert.ok(odd.warnings?.some((w) => w.includes('unknown storageTarget "PVC"')));
});

test('primaryDisk image: osImage, source, pullMethod', async () => {
  assert.equal((await vmOf(nestedSpec())).primaryDisk.image, { osImage: 'http://x.y.z.t/ubuntu.img', source: '', pullMethod: 'node' });
  const reg = await vmOf(
    withTemplate((t) => Object.assign(t.primaryDisk, { osImage: 'docker://r/i:1', source: 'registry', pullMethod: 'pod' })),
  );
  assert.equal(reg.primaryDisk.image, { osImage: 'docker://r/i:1', source: 'registry', pullMethod: 'pod' });
  assert.is((await vmOf(withTemplate((t) => (t.primaryDisk.pullMethod = 'node')))).primaryDisk.image.pullMethod, 'node');
  const bad = expectIssue(
    await parseFail(withTemplate((t) => (t.primaryDisk.pullMethod = 'Pod'))),
    `${PD}.pullMethod`,
    'failed to get value of "osImageSource" field: failed to get value of "primaryDisk.pullMethod" field: unsupported value: Pod',
  );
  assert.is(bad.value, 'Pod');
  expectIssue(await parseFail(withTemplate((t) => delete t.primaryDisk.osImage)), `${PD}.osImage`, '"primaryDisk.osImage" must be set');
  const odd = await parseOk(withTemplate((t) => (t.primaryDisk.source = 'ftp')));
  assert.ok(odd.warnings?.some((w) => w.includes('unknown source "ftp"')));
});

test('extraHeaders and extraHeadersSecretRef are mutually exclusive; values never echoed', async () => {
  const headers = ['Authorization: Basic c2VjcmV0'];
  assert.equal((await vmOf(withTemplate((t) => (t.primaryDisk.extraHeaders = headers)))).primaryDisk.image.extraHeaders, headers);
  assert.is(
    (await vmOf(withTemplate((t) => (t.primaryDisk.extraHeadersSecretRef = 'hdrs')))).primaryDisk.image.extraHeadersSecretRef,
    'hdrs',
  );
  const both = withTemplate((t) => Object.assign(t.primaryDisk, { extraHeaders: headers, extraHeadersSecretRef: 'hdrs' }));
  const i = expectIssue(
    await parseFail(both),
    `${PD}.extraHeadersSecretRef`,
    'field "extraHeaders" and "extraHeadersSecretRef" are mutually exclusive',
  );
  assert.not.ok(JSON.stringify(i).includes('c2VjcmV0'));
  assert.not.ok('extraHeaders' in (await vmOf(withTemplate((t) => (t.primaryDisk.extraHeaders = [])))).primaryDisk.image);
});

test('dataVolumeSecretRef resolves to a Secret name', async () => {
  assert.is(
    (await vmOf(withTemplate((t) => (t.primaryDisk.dataVolumeSecretRef = 'basic-auth')))).primaryDisk.image.dataVolumeSecretRef,
    'basic-auth',
  );
  const ref = withTemplate((t) => (t.primaryDisk.dataVolumeSecretRef = { secretKeyRef: { namespace: 'n', name: 'x', key: 'k' } }));
  expectIssue(await parseFail(ref), `${PD}.dataVolumeSecretRef`, 'failed to get value of "dataVolumeSecretRef" field');
});

test('secondaryDisks: sizes are quantities, class and access type pass through', async () => {
  const v = withTemplate(
    (t) =>
      (t.secondaryDisks = [
        { size: '20Gi', storageClassName: 'longhorn2' },
        { size: '30Gi', storageClassName: 'longhorn3', storageAccessType: 'ReadWriteOnce' },
      ]),
  );
  assert.equal((await vmOf(v)).secondaryDisks, [
    { size: '20Gi', storageClassName: 'longhorn2' },
    { size: '30Gi', storageClassName: 'longhorn3', storageAccessType: 'ReadWriteOnce' },
  ]);
  assert.equal((await vmOf(nestedSpec())).secondaryDisks, []);
  const bad = withTemplate((t) => (t.secondaryDisks = [{ size: '1Gi' }, { size: 'huge' }]));
  expectIssue(
    await parseFail(bad),
    `${TPL}.secondaryDisks[1].size`,
    'failed to configure storage: failed to parse value of "secondaryDisks.size" field: quantities must match',
  );
  const ref = withTemplate(
    (t) => (t.secondaryDisks = [{ size: '1Gi', storageClassName: { secretKeyRef: { namespace: 'a', name: 'b', key: 'c' } } }]),
  );
  expectIssue(
    await parseFail(ref),
    `${TPL}.secondaryDisks[0].storageClassName`,
    'failed to parse value of "secondaryDisks.storageClass" field',
  );
});

test.run();
