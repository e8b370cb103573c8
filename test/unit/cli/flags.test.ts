/**
 * The output-shaping flags of `render`, as RENDER_USAGE documents them: Secret redaction and
 * --show-secrets, --userdata, --with-ownership, --machine-name, --machine-deployment,
 * --userdata-secret, --namespace, --access-mode; and the defaults per input kind.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RENDER_USAGE } from '../../../cli/render.js';
import { SSH_KEY, docsOf, exampleYaml, machineDeploymentYaml, machineYaml, nestedValue, renderOk, renderYaml } from './support.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'kmf-render-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const decode = (data: string): string => Buffer.from(data, 'base64').toString('utf8');
const OWNERSHIP = [
  'app.kubernetes.io/managed-by',
  'kubevirt-machine-functions.io/machine-uid',
  'kubevirt-machine-functions.io/machine-namespace',
  'kubevirt-machine-functions.io/machine-name',
];

test('every flag handled is documented in RENDER_USAGE', () => {
  for (const flag of [
    '--namespace',
    '--machine-name',
    '--machine-deployment',
    '--userdata-secret',
    '--userdata',
    '--access-mode',
    '--secret',
    '--env',
    '--with-ownership',
    '--show-secrets',
  ]) {
    assert.match(RENDER_USAGE, new RegExp(`^  ${flag} `, 'm'), flag);
  }
});

test('Secret data is redacted by default', async () => {
  const { secret } = await renderOk(machineYaml(nestedValue()));
  assert.equal(secret.data, { userdata: '<redacted>' });
  assert.is(secret.type, 'Opaque');
});

test("--show-secrets prints the built-in cloud-init: hostname and the spec's SSH keys", async () => {
  const { secret } = await renderOk(machineYaml(nestedValue()), ['--show-secrets']);
  const userdata = decode(secret.data.userdata);
  assert.match(userdata, /^#cloud-config\n/);
  assert.match(userdata, /^hostname: worker-1$/m);
  assert.ok(userdata.includes(SSH_KEY), userdata);
});

test('Flatcar: the Ignition annotation carries the userdata, so it is redacted too unless --show-secrets', async () => {
  const yaml = machineYaml(nestedValue({}, 'flatcar'));
  const hidden = await renderOk(yaml);
  assert.is(hidden.vm.spec.template.metadata.annotations['kubevirt.io/ignitiondata'], '<redacted>');
  const shown = await renderOk(yaml, ['--show-secrets']);
  const ignition = shown.vm.spec.template.metadata.annotations['kubevirt.io/ignitiondata'];
  assert.is(ignition, decode(shown.secret.data.userdata));
  assert.is(JSON.parse(ignition).passwd.users[0].sshAuthorizedKeys[0], SSH_KEY);
  // Redaction changes nothing else.
  delete hidden.vm.spec.template.metadata.annotations['kubevirt.io/ignitiondata'];
  delete shown.vm.spec.template.metadata.annotations['kubevirt.io/ignitiondata'];
  assert.equal(hidden.vm, shown.vm);
});

test('--userdata FILE: its <MACHINE_NAME> (also query-escaped) becomes the machine name', async () => {
  const file = path.join(tmp, 'osm-cloud-config.yaml');
  writeFileSync(file, '#cloud-config\nhostname: <MACHINE_NAME>\nruncmd:\n- curl http://x/?n=%3CMACHINE_NAME%3E\n');
  const { secret } = await renderOk(machineDeploymentYaml(nestedValue()), [
    '--userdata',
    file,
    '--machine-name',
    'pool-a-x7k2p',
    '--show-secrets',
  ]);
  assert.is(decode(secret.data.userdata), '#cloud-config\nhostname: pool-a-x7k2p\nruncmd:\n- curl http://x/?n=pool-a-x7k2p\n');
  const hidden = await renderOk(machineDeploymentYaml(nestedValue()), ['--userdata', file]);
  assert.equal(hidden.secret.data, { userdata: '<redacted>' });
});

test('--with-ownership labels the VM, its VMI template, its DataVolume templates and the Secret (as withOwnership does)', async () => {
  const plain = await renderOk(machineYaml(nestedValue()));
  for (const k of OWNERSHIP) assert.is(plain.vm.metadata.labels[k], undefined, k);
  assert.equal(plain.secret.metadata.labels, {});

  const { vm, secret } = await renderOk(machineYaml(nestedValue()), ['--with-ownership']);
  const expected = {
    'app.kubernetes.io/managed-by': 'kubevirt-machine-functions',
    'kubevirt-machine-functions.io/machine-uid': 'render',
    'kubevirt-machine-functions.io/machine-namespace': 'machines',
    'kubevirt-machine-functions.io/machine-name': 'worker-1',
    'cluster.x-k8s.io/cluster-name': 'cluster-a',
  };
  for (const labels of [
    vm.metadata.labels,
    vm.spec.template.metadata.labels,
    vm.spec.dataVolumeTemplates[0].metadata.labels,
    secret.metadata.labels,
  ]) {
    for (const [k, v] of Object.entries(expected)) assert.is(labels[k], v, k);
  }
  assert.equal(secret.metadata.labels, expected);
  assert.equal(vm.spec.template.metadata.labels, { ...plain.vm.spec.template.metadata.labels, ...expected });
  // Nothing but labels changes.
  const strip = (o: any) => JSON.parse(JSON.stringify(o, (k, v) => (k === 'labels' ? undefined : v)));
  assert.equal(strip(vm), strip(plain.vm));
});

test('a Machine: its own name, no md label unless --machine-deployment', async () => {
  const { vm, secret } = await renderOk(machineYaml(nestedValue()));
  assert.is(vm.metadata.name, 'worker-1');
  assert.is(vm.metadata.labels.pool, 'a', "the Machine's labels");
  assert.is(vm.metadata.labels.md, undefined);
  assert.is(secret.metadata.name, 'userdata-worker-1');

  const withMd = await renderOk(machineYaml(nestedValue()), ['--machine-deployment', 'pool-a']);
  assert.is(withMd.vm.metadata.labels.md, 'pool-a');
  assert.is(withMd.vm.spec.template.metadata.labels.md, 'pool-a');
  assert.equal(withMd.vm.spec.template.spec.topologySpreadConstraints[0].labelSelector, { matchLabels: { md: 'pool-a' } });
});

test('a MachineDeployment: machine <name>-0 and md <name> by default; --machine-name and --machine-deployment override', async () => {
  const def = await renderOk(machineDeploymentYaml(nestedValue()));
  assert.is(def.vm.metadata.name, 'pool-a-0');
  assert.is(def.vm.metadata.labels.md, 'pool-a');
  assert.is(def.vm.metadata.labels.name, 'pool-a', "the template's labels");

  const { vm, secret } = await renderOk(machineDeploymentYaml(nestedValue()), [
    '--machine-name',
    'pool-a-7f9c-xk2lp',
    '--machine-deployment',
    'other-md',
  ]);
  assert.is(vm.metadata.name, 'pool-a-7f9c-xk2lp');
  assert.is(vm.metadata.labels['kubevirt.io/vm'], 'pool-a-7f9c-xk2lp');
  assert.is(vm.spec.dataVolumeTemplates[0].metadata.name, 'pool-a-7f9c-xk2lp');
  assert.equal(vm.spec.template.spec.volumes[0], { name: 'datavolumedisk', dataVolume: { name: 'pool-a-7f9c-xk2lp' } });
  assert.is(secret.metadata.name, 'userdata-pool-a-7f9c-xk2lp');
  assert.is(vm.metadata.labels.md, 'other-md');
});

test('a MachineSet: machine <name>-0, no md label', async () => {
  const yaml = machineDeploymentYaml(nestedValue(), 'set-a').replace('kind: MachineDeployment', 'kind: MachineSet');
  const { vm } = await renderOk(yaml);
  assert.is(vm.metadata.name, 'set-a-0');
  assert.is(vm.metadata.labels.md, undefined);
});

test('--userdata-secret names the Secret and the cloudInitNoCloud reference', async () => {
  const { vm, secret } = await renderOk(machineYaml(nestedValue()), ['--userdata-secret', 'my-userdata']);
  assert.is(secret.metadata.name, 'my-userdata');
  const volume = vm.spec.template.spec.volumes.find((v: any) => v.name === 'cloudinitdisk');
  assert.equal(volume.cloudInitNoCloud, { secretRef: { name: 'my-userdata' } });
});

test("--namespace places the VM and the Secret (a pvc image source keeps its own namespace); it beats the flat spec's namespace", async () => {
  const value = nestedValue();
  value.cloudProviderSpec.virtualMachine.template.primaryDisk.osImage = 'golden/ubuntu-22.04';
  const { vm, secret } = await renderOk(machineYaml(value), ['--namespace', 'vms']);
  assert.is(vm.metadata.namespace, 'vms');
  assert.is(secret.metadata.namespace, 'vms');
  assert.equal(vm.spec.dataVolumeTemplates[0].spec.source, { pvc: { namespace: 'golden', name: 'ubuntu-22.04' } });

  const flat = await renderOk(exampleYaml('kubevirt-machinedeployment-2019-sourceurl.yaml'), ['--namespace', 'vms']);
  assert.is(flat.vm.metadata.namespace, 'vms');
  assert.is(flat.secret.metadata.namespace, 'vms');
});

test('--access-mode applies only when the spec sets no storageAccessType', async () => {
  const modes = async (value: unknown, args: string[]) =>
    (await renderOk(machineYaml(value), args)).vm.spec.dataVolumeTemplates[0].spec.storage.accessModes;
  assert.equal(await modes(nestedValue(), []), ['ReadWriteOnce']);
  assert.equal(await modes(nestedValue(), ['--access-mode', 'ReadWriteMany']), ['ReadWriteMany']);
  const fixed = nestedValue();
  fixed.cloudProviderSpec.virtualMachine.template.primaryDisk.storageAccessType = 'ReadWriteOnce';
  assert.equal(await modes(fixed, ['--access-mode', 'ReadWriteMany']), ['ReadWriteOnce']);
});

test('several documents render in order, each VM followed by its Secret', async () => {
  const r = await renderYaml(`${machineYaml(nestedValue(), 'a')}---\n${machineYaml(nestedValue(), 'b')}`);
  assert.is(r.code, 0, r.stderr);
  const names = docsOf(r.stdout).map((o) => `${o.kind}/${o.metadata.name}`);
  assert.equal(names, ['VirtualMachine/a', 'Secret/userdata-a', 'VirtualMachine/b', 'Secret/userdata-b']);
});

test('input may be JSON (a kubectl -o json Machine)', async () => {
  const json = JSON.stringify({
    apiVersion: 'cluster.k8s.io/v1alpha1',
    kind: 'Machine',
    metadata: { name: 'j', namespace: 'machines' },
    spec: { providerSpec: { value: nestedValue() } },
  });
  const { vm } = await renderOk(json);
  assert.is(vm.metadata.name, 'j');
  assert.is(vm.metadata.namespace, 'kube-system');
});

test.run();
