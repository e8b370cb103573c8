/**
 * The image cache (IMAGE_CACHE=on) in the machine function, on the real API server with
 * KubeVirt's and CDI's admission: one golden DataVolume per image, the VM's disks are clones of
 * it; a burst of Machines of a never-seen image makes exactly one; a disk too small for the
 * image is refused before anything exists; a re-published image gets a new golden while the
 * Machines made before keep theirs.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminKube } from '../support/admin.js';
import { freshNamespace, uniqueName } from '../support/kube.js';
import { exampleProviderSpec, machineObject, startMachineEnv, type MachineEnv } from '../support/machine-env.js';
import { post, resourceEvent } from '../support/apiserver-events.js';
import { rawDisk } from '../support/image-server.js';
import { ANN_GOLDEN_CONTENT, ANN_GOLDEN_SOURCE, LABEL_GOLDEN } from '../../../shared/image/golden.js';

const test = suite('machine function: golden images (IMAGE_CACHE=on)');
const ctx = {} as { env: MachineEnv; ns: string };
const extraEnv = { IMAGE_CACHE: 'on' };

test.before(async () => {
  ctx.env = await startMachineEnv({ extraEnv });
  ctx.ns = await freshNamespace('machines');
});
test.after(async () => {
  await ctx.env?.stop();
});

const dvBase = () => `/apis/cdi.kubevirt.io/v1beta1/namespaces/${ctx.env.infraNamespace}/datavolumes`;
const vmPath = (name: string) => `/apis/kubevirt.io/v1/namespaces/${ctx.env.infraNamespace}/virtualmachines/${name}`;
const machinePath = (name: string) => `/apis/cluster.k8s.io/v1alpha1/namespaces/${ctx.ns}/machines/${name}`;

function specWith(imageUrl: string, env: MachineEnv = ctx.env, size?: string): unknown {
  const value = exampleProviderSpec('kubevirt-machinedeployment.yaml', {
    kubeconfigB64: env.infraKubeconfigB64,
    kubeconfigRaw: env.saKubeconfig,
    imageUrl,
  }).value;
  if (size) value.cloudProviderSpec.virtualMachine.template.primaryDisk.size = size;
  return value;
}

async function provision(name: string, value: unknown, env: MachineEnv = ctx.env): Promise<number> {
  const m = await adminKube().create(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ctx.ns}/machines`, machineObject(name, ctx.ns, value));
  return post(env.fn.url, resourceEvent('add', m));
}

async function goldensOf(url: string): Promise<any[]> {
  const list = await adminKube().request<{ items: any[] }>('GET', dvBase(), { query: { labelSelector: LABEL_GOLDEN } });
  return list.items.filter(
    (d) => d.metadata.annotations?.[ANN_GOLDEN_SOURCE] === url && d.metadata.name === d.metadata.labels[LABEL_GOLDEN],
  );
}

/** A new image file of its own on the test image server; its URL. */
function publish(file: string, body: Buffer = rawDisk()): string {
  ctx.env.images.files.set(file, body);
  return ctx.env.images.url(file);
}

test('a Machine of an http image: a golden DataVolume, and the VM disk is a clone of it', async () => {
  const url = publish(`${uniqueName('one')}.img`);
  const name = uniqueName('g');
  assert.is(await provision(name, specWith(url)), 200, ctx.env.fn.logs.slice(-3).join('\n'));
  const [golden, ...more] = await goldensOf(url);
  assert.ok(golden, 'golden DataVolume created');
  assert.is(more.length, 0);
  assert.match(golden.metadata.name, /^kmf-golden-[0-9a-f]{20}$/);
  assert.is(golden.metadata.labels['app.kubernetes.io/managed-by'], 'kubevirt-machine-functions');
  assert.not.ok(
    Object.keys(golden.metadata.labels).some((k) => k.startsWith('kubevirt-machine-functions.io/machine')),
    'no Machine labels',
  );
  const content = JSON.parse(golden.metadata.annotations[ANN_GOLDEN_CONTENT]);
  assert.is(content.length, 256 * 1024);
  assert.match(content.etag, /^"[0-9a-f]{16}"$/);
  assert.equal(golden.spec.source, { http: { url } });
  // A 256 KiB raw disk: 1 MiB, CDI's minimum, with CDI adding its filesystem overhead.
  assert.is(golden.spec.storage.resources.requests.storage, '1Mi');
  assert.is(golden.metadata.annotations['cdi.kubevirt.io/storage.bind.immediate.requested'], 'true');

  const vm = await adminKube().get<any>(vmPath(name));
  const [primary] = vm.spec.dataVolumeTemplates;
  assert.equal(primary.spec.source, { pvc: { namespace: ctx.env.infraNamespace, name: golden.metadata.name } });
  assert.is(primary.metadata.labels[LABEL_GOLDEN], golden.metadata.name);
  // The Machine's own size and class stay.
  assert.is(primary.spec.storage.resources.requests.storage, '10Gi');
  assert.is(primary.spec.storage.storageClassName, golden.spec.storage.storageClassName);

  // A later reconcile of the same Machine leaves the VM as it is (no drift from the golden).
  const m = await adminKube().get<any>(machinePath(name));
  assert.is(await post(ctx.env.fn.url, resourceEvent('update', m)), 200);
  const again = await adminKube().get<any>(vmPath(name));
  assert.is(again.metadata.resourceVersion, vm.metadata.resourceVersion, 'VM not rewritten');
});

test('a burst of 20 Machines of a never-seen image, all at once: exactly one golden DataVolume', async () => {
  const url = publish(`${uniqueName('burst')}.img`);
  const names = Array.from({ length: 20 }, () => uniqueName('b'));
  const statuses = await Promise.all(names.map((n) => provision(n, specWith(url))));
  assert.equal(
    statuses,
    names.map(() => 200),
    ctx.env.fn.logs.slice(-3).join('\n'),
  );
  const goldens = await goldensOf(url);
  assert.is(goldens.length, 1, goldens.map((g) => g.metadata.name).join(', '));
  for (const n of names) {
    const vm = await adminKube().get<any>(vmPath(n));
    assert.is(vm.spec.dataVolumeTemplates[0].spec.source.pvc.name, goldens[0].metadata.name, n);
  }
  // The preflight probed the image once for the burst (the ranged first bytes), and nothing
  // else of the function downloaded it.
  const path = new URL(url).pathname.slice(1);
  assert.is(ctx.env.images.requests.filter((r) => r.path === path).length, 1);
});

test('a disk smaller than the image needs: InvalidConfiguration naming both sizes, nothing created', async () => {
  // A qcow2 header stating a 100 GiB disk.
  const qcow2 = Buffer.alloc(4096);
  qcow2.write('QFI\xfb', 0, 'latin1');
  qcow2.writeUInt32BE(3, 4);
  qcow2.writeBigUInt64BE(100n * 1024n ** 3n, 24);
  qcow2.writeUInt32BE(16, 20); // cluster_bits
  const url = publish(`${uniqueName('huge')}.qcow2`, qcow2);
  const name = uniqueName('small');
  assert.is(await provision(name, specWith(url, ctx.env, '10Gi')), 200);
  const m = await adminKube().get<any>(machinePath(name));
  assert.is(m.status.errorReason, 'InvalidConfiguration');
  assert.match(m.status.errorMessage, 'primary disk asks for 10Gi');
  assert.match(m.status.errorMessage, '100 GiB (107374182400 bytes)');
  assert.match(m.status.errorMessage, url);
  assert.not.ok(await adminKube().get(vmPath(name)), 'no VM');
  assert.is((await goldensOf(url)).length, 0, 'no golden');
});

test('re-published image (new ETag): a new golden for new Machines, the earlier Machine keeps its own', async () => {
  const file = `${uniqueName('repub')}.img`;
  const url = publish(file);
  const before = uniqueName('old');
  assert.is(await provision(before, specWith(url)), 200);
  const [oldGolden] = await goldensOf(url);
  assert.ok(oldGolden);

  publish(file, rawDisk());
  // A fresh function process: the probe's verdict is remembered for a minute per process.
  const second = await startMachineEnv({ infraNamespace: ctx.env.infraNamespace, extraEnv });
  try {
    const after = uniqueName('new');
    assert.is(await provision(after, specWith(ctx.env.images.url(file), second), second), 200, second.fn.logs.slice(-3).join('\n'));
    const goldens = await goldensOf(url);
    assert.is(goldens.length, 2, 'a second golden');
    const newGolden = goldens.find((g) => g.metadata.name !== oldGolden.metadata.name)!;
    assert.is.not(
      JSON.parse(newGolden.metadata.annotations[ANN_GOLDEN_CONTENT]).etag,
      JSON.parse(oldGolden.metadata.annotations[ANN_GOLDEN_CONTENT]).etag,
    );
    assert.is((await adminKube().get<any>(vmPath(after))).spec.dataVolumeTemplates[0].spec.source.pvc.name, newGolden.metadata.name);
    assert.is((await adminKube().get<any>(vmPath(before))).spec.dataVolumeTemplates[0].spec.source.pvc.name, oldGolden.metadata.name);
    // The earlier Machine reconciled by the new process: still its own golden, VM untouched.
    const m = await adminKube().get<any>(machinePath(before));
    assert.is(await post(second.fn.url, resourceEvent('update', m)), 200);
    assert.is((await adminKube().get<any>(vmPath(before))).spec.dataVolumeTemplates[0].spec.source.pvc.name, oldGolden.metadata.name);
  } finally {
    await second.stop();
  }
});

test.run();
