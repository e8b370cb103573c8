/**
 * The preflight refuses, before any infra object exists: an image URL that answers 404, a bz2
 * image (CDI would "import" the compressed bytes), a link-local target (SSRF), and an infra
 * cluster whose service range overlaps the Machines' cluster's. Unreachable → retried (5xx).
 */
import * as assert from 'uvu/assert';
import { parse as parseYaml, stringify } from 'yaml';
import { adminKube } from '../support/admin.js';
import { uniqueName } from '../support/kube.js';
import { machineSuite, exampleProviderSpec, machineObject } from '../support/machine-env.js';
import { post, resourceEvent } from '../support/apiserver-events.js';
import { needing } from '../../support/system-tools.js';

const { test, ctx } = machineSuite('machine function: preflight');

const specWith = (imageUrl: string, kubeconfigB64 = ctx.env.infraKubeconfigB64) =>
  exampleProviderSpec('kubevirt-machinedeployment.yaml', { kubeconfigB64, kubeconfigRaw: ctx.env.saKubeconfig, imageUrl }).value;

async function run(name: string, value: unknown): Promise<{ status: number; machine: any }> {
  const m = await adminKube().create(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ctx.ns}/machines`, machineObject(name, ctx.ns, value));
  const status = await post(ctx.env.fn.url, resourceEvent('add', m));
  return { status, machine: await adminKube().get(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ctx.ns}/machines/${name}`) };
}

async function nothingCreated(name: string): Promise<void> {
  const base = `/apis/%s/namespaces/${ctx.env.infraNamespace}`;
  assert.not.ok(await adminKube().get(`${base.replace('%s', 'kubevirt.io/v1')}/virtualmachines/${name}`), 'no VM');
  assert.not.ok(await adminKube().get(`${base.replace('%s', 'cdi.kubevirt.io/v1beta1')}/datavolumes/${name}`), 'no DataVolume');
  assert.not.ok(await adminKube().get(`/api/v1/namespaces/${ctx.env.infraNamespace}/secrets/userdata-${name}`), 'no Secret');
}

test('a 404 image URL → error naming the 404, nothing created', async () => {
  const name = uniqueName('p404');
  const { status, machine } = await run(name, specWith(ctx.env.images.url('no-such.img')));
  assert.is(status, 200);
  assert.is(machine.status.errorReason, 'InvalidConfiguration');
  assert.match(machine.status.errorMessage, /404/);
  assert.match(machine.status.errorMessage, /no-such\.img/);
  await nothingCreated(name);
});

needing(test, ['bzip2'])('a bz2 image → refused with the remedy, nothing created', async () => {
  const name = uniqueName('pbz2');
  const { status, machine } = await run(name, specWith(ctx.env.images.url('flatcar.img.bz2')));
  assert.is(status, 200);
  assert.match(machine.status.errorMessage, /bzip2/);
  assert.match(machine.status.errorMessage, /gz|xz/);
  await nothingCreated(name);
});

test('a gzip image passes', async () => {
  const name = uniqueName('pgz');
  const { status, machine } = await run(name, specWith(ctx.env.images.url('ubuntu.img.gz')));
  assert.is(status, 200, ctx.env.fn.logs.at(-1));
  assert.is(machine.status.errorReason ?? null, null);
});

test('a link-local target (cloud metadata) → refused by the SSRF guard, nothing created', async () => {
  const name = uniqueName('pssrf');
  const { status, machine } = await run(name, specWith('http://169.254.169.254/latest/meta-data/disk.img'));
  assert.is(status, 200);
  assert.match(machine.status.errorMessage, /169\.254\.169\.254/);
  assert.match(machine.status.errorMessage, /IMAGE_PREFLIGHT_ALLOW_CIDRS/);
  await nothingCreated(name);
});

test('an unreachable image server → 503 (Knative retries), visible on the Machine as waiting, nothing created', async () => {
  const name = uniqueName('punreach');
  const { status, machine } = await run(name, specWith('http://127.0.0.1:9/ubuntu.img'));
  assert.is(status, 503);
  assert.is(machine.status?.errorReason ?? null, null, 'transient: not reported as a permanent error');
  const waiting = machine.status?.providerStatus?.waiting;
  assert.is(waiting?.reason, 'ImageUnreachable', JSON.stringify(machine.status));
  assert.match(waiting.message, /127\.0\.0\.1:9/);
  // The retry of the same fault does not write the Machine again.
  assert.is(await post(ctx.env.fn.url, resourceEvent('update', machine)), 503);
  const again = await adminKube().get(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ctx.ns}/machines/${name}`);
  assert.is(again.metadata.resourceVersion, machine.metadata.resourceVersion, 'no second write for the same fault');
  await nothingCreated(name);
});

test('an infra cluster whose service range overlaps the Machines cluster → refused naming both ranges', async () => {
  // The same control plane reached through another URL stands in for "another cluster" that
  // uses the same service range (10.0.0.0/24) — exactly the misconfiguration the guide warns of.
  const kc = parseYaml(ctx.env.saKubeconfig);
  kc.clusters[0].cluster.server = kc.clusters[0].cluster.server.replace('127.0.0.1', 'localhost');
  const name = uniqueName('pcidr');
  const { status, machine } = await run(name, specWith(ctx.env.imageUrl, Buffer.from(stringify(kc)).toString('base64')));
  assert.is(status, 200, ctx.env.fn.logs.at(-1));
  assert.is(machine.status.errorReason, 'InvalidConfiguration');
  const ranges = machine.status.errorMessage.match(/\d+\.\d+\.\d+\.\d+\/\d+/g) ?? [];
  assert.ok(ranges.length >= 2, `both ranges named: ${machine.status.errorMessage}`);
  await nothingCreated(name);
});

test.run();
