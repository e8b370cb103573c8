/**
 * `render --image-cache on|off`: off (the default) is machine-controller's VM; on prints the
 * golden DataVolume first and makes the disks clones of it, named from the facts the function's
 * preflight learns (given as flags here).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RENDER_USAGE } from '../../../cli/render.js';
import { LABEL_GOLDEN } from '../../../shared/image/golden.js';
import { docsOf, machineYaml, nestedValue, renderOk, renderYaml } from './support.js';

const GiB = 1024 ** 3;

test('the image cache flags are documented', () => {
  for (const flag of [
    '--image-cache',
    '--image-etag',
    '--image-last-modified',
    '--image-length',
    '--image-virtual-size',
    '--image-digest',
  ]) {
    assert.match(RENDER_USAGE, new RegExp(`^  ${flag} `, 'm'), flag);
  }
});

test('default: no golden, the disk downloads the image (machine-controller parity)', async () => {
  const { vm } = await renderOk(machineYaml(nestedValue()));
  assert.equal(vm.spec.dataVolumeTemplates[0].spec.source, { http: { url: 'http://images.example.test/ubuntu.img' } });
});

test('--image-cache on: the golden DataVolume, then the VM whose disk clones it', async () => {
  const r = await renderYaml(machineYaml(nestedValue()), [
    '--image-cache',
    'on',
    '--namespace',
    'infra',
    '--image-virtual-size',
    String(2 * GiB),
  ]);
  assert.is(r.code, 0, r.stderr);
  const docs = docsOf(r.stdout);
  assert.equal(
    docs.map((d) => d.kind),
    ['DataVolume', 'VirtualMachine', 'Secret'],
  );
  const [golden, vm] = docs;
  assert.match(golden.metadata.name, /^kmf-golden-[0-9a-f]{20}$/);
  assert.is(golden.metadata.namespace, 'infra');
  assert.equal(golden.spec.source, { http: { url: 'http://images.example.test/ubuntu.img' } });
  assert.equal(golden.spec.storage, {
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: '2048Mi' } },
    storageClassName: 'fast',
  });
  const primary = vm.spec.dataVolumeTemplates[0];
  assert.equal(primary.spec.source, { pvc: { namespace: 'infra', name: golden.metadata.name } });
  assert.is(primary.metadata.labels[LABEL_GOLDEN], golden.metadata.name);
  assert.match(r.stderr, "named without the image's content identity");
});

test('$IMAGE_CACHE=on is followed as the function follows it; --image-cache off wins over it', async () => {
  const on = await renderYaml(machineYaml(nestedValue()), [], { IMAGE_CACHE: 'on' });
  assert.is(docsOf(on.stdout)[0].kind, 'DataVolume');
  const off = await renderYaml(machineYaml(nestedValue()), ['--image-cache', 'off'], { IMAGE_CACHE: 'on' });
  assert.is(docsOf(off.stdout)[0].kind, 'VirtualMachine');
});

test('content identity flags change the golden name, as a re-published image does', async () => {
  const nameWith = async (args: string[]) => {
    const r = await renderYaml(machineYaml(nestedValue()), ['--image-cache', 'on', ...args]);
    assert.is(r.code, 0, r.stderr);
    return docsOf(r.stdout)[0].metadata.name as string;
  };
  const a = await nameWith(['--image-etag', '"v1"', '--image-length', '1000']);
  assert.is(await nameWith(['--image-etag', '"v1"', '--image-length', '1000']), a);
  assert.is.not(await nameWith(['--image-etag', '"v2"', '--image-length', '1000']), a);
  assert.is.not(await nameWith(['--image-etag', '"v1"', '--image-length', '1001']), a);
  assert.is.not(await nameWith(['--image-etag', '"v1"', '--image-length', '1000', '--image-last-modified', 'x']), a);
});

test('a disk smaller than the image: exit 1 naming both sizes, no VM printed', async () => {
  const r = await renderYaml(machineYaml(nestedValue()), ['--image-cache', 'on', '--image-virtual-size', String(30 * GiB)]);
  assert.is(r.code, 1);
  assert.match(r.stderr, 'primary disk asks for 20Gi');
  assert.match(r.stderr, '30 GiB');
  assert.is(r.stdout, '');
});

test('pvc images are not cached', async () => {
  const value = nestedValue();
  value.cloudProviderSpec.virtualMachine.template.primaryDisk.osImage = 'golden-ns/ubuntu';
  const { vm } = await renderOk(machineYaml(value), ['--image-cache', 'on']);
  assert.equal(vm.spec.dataVolumeTemplates[0].spec.source, { pvc: { namespace: 'golden-ns', name: 'ubuntu' } });
});

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const registryValue = (osImage = 'docker://quay.io/containerdisks/ubuntu:22.04') => {
  const value = nestedValue();
  value.cloudProviderSpec.virtualMachine.template.primaryDisk.osImage = osImage;
  return value;
};

test('registry image with --image-digest: a golden pinned to the digest, keyed by it; no network', async () => {
  const r = await renderYaml(machineYaml(registryValue()), ['--image-cache', 'on', '--namespace', 'infra', '--image-digest', DIGEST]);
  assert.is(r.code, 0, r.stderr);
  const [golden, vm] = docsOf(r.stdout);
  assert.is(golden.kind, 'DataVolume');
  assert.equal(golden.spec.source, { registry: { url: `docker://quay.io/containerdisks/ubuntu@${DIGEST}`, pullMethod: 'node' } });
  assert.is(golden.metadata.annotations['kubevirt-machine-functions.io/golden-source'], 'docker://quay.io/containerdisks/ubuntu:22.04');
  assert.equal(JSON.parse(golden.metadata.annotations['kubevirt-machine-functions.io/golden-content']), { checksum: DIGEST });
  assert.equal(vm.spec.dataVolumeTemplates[0].spec.source, { pvc: { namespace: 'infra', name: golden.metadata.name } });
  assert.not.match(r.stderr, 'content identity');
  const other = await renderYaml(machineYaml(registryValue()), ['--image-cache', 'on', '--image-digest', `sha256:${'cd'.repeat(32)}`]);
  assert.is.not(docsOf(other.stdout)[0].metadata.name, golden.metadata.name, 'another digest, another golden');
});

test('registry image without a digest: rendered uncached (as the function leaves it), with a note', async () => {
  const r = await renderYaml(machineYaml(registryValue()), ['--image-cache', 'on']);
  assert.is(r.code, 0, r.stderr);
  const docs = docsOf(r.stdout);
  assert.equal(
    docs.map((d) => d.kind),
    ['VirtualMachine', 'Secret'],
  );
  assert.equal(docs[0].spec.dataVolumeTemplates[0].spec.source, {
    registry: { url: 'docker://quay.io/containerdisks/ubuntu:22.04', pullMethod: 'node' },
  });
  assert.match(r.stderr, 'not cached');
  assert.match(r.stderr, '--image-digest');
});

test('registry image pinned @sha256 in the URL: a golden without any flag', async () => {
  const r = await renderYaml(machineYaml(registryValue(`docker://quay.io/containerdisks/ubuntu@${DIGEST}`)), ['--image-cache', 'on']);
  assert.is(r.code, 0, r.stderr);
  const [golden] = docsOf(r.stdout);
  assert.is(golden.kind, 'DataVolume');
  assert.equal(golden.spec.source.registry.url, `docker://quay.io/containerdisks/ubuntu@${DIGEST}`);
  assert.is(r.stderr, '');
});

test('bad values are usage errors', async () => {
  for (const args of [
    ['--image-digest', 'sha256:abc'],
    ['--image-digest', DIGEST.toUpperCase()],
    ['--image-cache', 'maybe'],
    ['--image-length', '12k'],
    ['--image-virtual-size', '-1'],
  ]) {
    let thrown: unknown;
    try {
      await renderYaml(machineYaml(nestedValue()), args);
    } catch (e) {
      thrown = e;
    }
    assert.ok(thrown instanceof Error && thrown.constructor.name === 'UsageError', args.join(' '));
  }
});

test.run();
