/**
 * Registry images in the image cache (IMAGE_CACHE=on), on the real API server: the golden is
 * keyed by the manifest digest the preflight asks the registry for (the loopback stand-in,
 * dev/stack/registry-server.ts, listed in INSECURE_REGISTRIES since it speaks plain http) and
 * imports exactly `name@digest`; a re-pushed tag is a new golden; a digest-pinned URL needs no
 * request; a registry that will not tell (401 without a usable token) leaves the Machine
 * uncached — its disk imports from the registry as machine-controller's does — and provisioned.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminKube } from '../support/admin.js';
import { freshNamespace, uniqueName } from '../support/kube.js';
import { exampleProviderSpec, machineObject, startMachineEnv, type MachineEnv } from '../support/machine-env.js';
import { post, resourceEvent } from '../support/apiserver-events.js';
import { ANN_GOLDEN_CONTENT, ANN_GOLDEN_SOURCE, LABEL_GOLDEN } from '../../../shared/image/golden.js';
import { startRegistryServer, type RegistryServer } from '../../../dev/stack/registry-server.js';

const test = suite('machine function: registry images in the golden image cache');
const ctx = {} as { env: MachineEnv; ns: string; reg: RegistryServer; extraEnv: Record<string, string> };

test.before(async () => {
  ctx.reg = await startRegistryServer();
  ctx.extraEnv = { IMAGE_CACHE: 'on', INSECURE_REGISTRIES: ctx.reg.host };
  ctx.env = await startMachineEnv({ extraEnv: ctx.extraEnv });
  ctx.ns = await freshNamespace('machines');
});
test.after(async () => {
  await ctx.env?.stop();
  await ctx.reg?.close();
});

const dvBase = () => `/apis/cdi.kubevirt.io/v1beta1/namespaces/${ctx.env.infraNamespace}/datavolumes`;
const vmPath = (name: string) => `/apis/kubevirt.io/v1/namespaces/${ctx.env.infraNamespace}/virtualmachines/${name}`;
const machinePath = (name: string) => `/apis/cluster.k8s.io/v1alpha1/namespaces/${ctx.ns}/machines/${name}`;

function specWith(imageUrl: string, env: MachineEnv = ctx.env): unknown {
  return exampleProviderSpec('kubevirt-machinedeployment.yaml', {
    kubeconfigB64: env.infraKubeconfigB64,
    kubeconfigRaw: env.saKubeconfig,
    imageUrl,
  }).value;
}

async function provision(name: string, url: string, env: MachineEnv = ctx.env): Promise<void> {
  const m = await adminKube().create(
    `/apis/cluster.k8s.io/v1alpha1/namespaces/${ctx.ns}/machines`,
    machineObject(name, ctx.ns, specWith(url, env)),
  );
  assert.is(await post(env.fn.url, resourceEvent('add', m)), 200, env.fn.logs.slice(-3).join('\n'));
}

async function goldensOf(url: string): Promise<any[]> {
  const list = await adminKube().request<{ items: any[] }>('GET', dvBase(), { query: { labelSelector: LABEL_GOLDEN } });
  return list.items.filter(
    (d) => d.metadata.annotations?.[ANN_GOLDEN_SOURCE] === url && d.metadata.name === d.metadata.labels[LABEL_GOLDEN],
  );
}

const primarySource = async (machine: string) => (await adminKube().get<any>(vmPath(machine))).spec.dataVolumeTemplates[0].spec.source;

test('(a) two Machines of a tag: one golden, its source pinned to the digest the tag points at; both VMs clone it', async () => {
  const repo = `containerdisks/${uniqueName('ubuntu')}`;
  const digest = ctx.reg.push(repo, '22.04');
  const url = ctx.reg.url(`${repo}:22.04`);
  const [a, b] = [uniqueName('ra'), uniqueName('rb')];
  await provision(a, url);
  await provision(b, url);
  const goldens = await goldensOf(url);
  assert.is(goldens.length, 1, goldens.map((g) => g.metadata.name).join(', '));
  const [golden] = goldens;
  assert.equal(golden.spec.source, { registry: { url: `docker://${ctx.reg.host}/${repo}@${digest}`, pullMethod: 'node' } });
  assert.equal(JSON.parse(golden.metadata.annotations[ANN_GOLDEN_CONTENT]), { checksum: digest });
  for (const m of [a, b]) assert.equal(await primarySource(m), { pvc: { namespace: ctx.env.infraNamespace, name: golden.metadata.name } });
  // One manifest HEAD for both (the preflight's verdict is shared by the burst).
  assert.is(ctx.reg.manifestRequests(repo).length, 1);
});

test('a burst of 10 Machines of a never-seen tag, all at once: one manifest request, one golden', async () => {
  const repo = `containerdisks/${uniqueName('burst')}`;
  const digest = ctx.reg.push(repo, 'v1');
  const url = ctx.reg.url(`${repo}:v1`);
  const names = Array.from({ length: 10 }, () => uniqueName('rburst'));
  const t0 = Date.now();
  await Promise.all(names.map((n) => provision(n, url)));
  const ms = Date.now() - t0;
  const goldens = await goldensOf(url);
  assert.is(goldens.length, 1);
  assert.match(goldens[0].spec.source.registry.url, `@${digest}`);
  for (const n of names) assert.is((await primarySource(n)).pvc.name, goldens[0].metadata.name, n);
  assert.is(ctx.reg.manifestRequests(repo).length, 1, 'the burst shares one digest lookup');
  console.log(`  burst of 10 registry Machines: ${ms} ms, ${ctx.reg.manifestRequests(repo).length} manifest request(s)`);
});

test('(b) the tag re-pushed: a new Machine gets a new golden at the new digest; the old Machine keeps its own', async () => {
  const repo = `containerdisks/${uniqueName('repush')}`;
  const first = ctx.reg.push(repo, '22.04');
  const url = ctx.reg.url(`${repo}:22.04`);
  const before = uniqueName('old');
  await provision(before, url);
  const [oldGolden] = await goldensOf(url);
  assert.ok(oldGolden);
  assert.match(oldGolden.spec.source.registry.url, `@${first}`);

  const second = ctx.reg.push(repo, '22.04');
  assert.is.not(second, first);
  // A fresh function process: the probe's verdict is remembered for a minute per process.
  const fresh = await startMachineEnv({ infraNamespace: ctx.env.infraNamespace, extraEnv: ctx.extraEnv });
  try {
    const after = uniqueName('new');
    await provision(after, url, fresh);
    const goldens = await goldensOf(url);
    assert.is(goldens.length, 2, 'a second golden');
    const newGolden = goldens.find((g) => g.metadata.name !== oldGolden.metadata.name)!;
    assert.equal(newGolden.spec.source.registry.url, `docker://${ctx.reg.host}/${repo}@${second}`);
    assert.equal(JSON.parse(newGolden.metadata.annotations[ANN_GOLDEN_CONTENT]), { checksum: second });
    assert.is((await primarySource(after)).pvc.name, newGolden.metadata.name);
    assert.is((await primarySource(before)).pvc.name, oldGolden.metadata.name);
    // The old Machine reconciled by the new process: still its own golden, VM untouched.
    const vm = await adminKube().get<any>(vmPath(before));
    const m = await adminKube().get<any>(machinePath(before));
    assert.is(await post(fresh.fn.url, resourceEvent('update', m)), 200);
    const again = await adminKube().get<any>(vmPath(before));
    assert.is(again.metadata.resourceVersion, vm.metadata.resourceVersion, 'VM not rewritten');
  } finally {
    await fresh.stop();
  }
});

test('(c) a digest-pinned URL: a golden of that digest, and no request to the registry', async () => {
  const repo = `containerdisks/${uniqueName('pinned')}`;
  const digest = ctx.reg.push(repo, 'v1');
  const url = ctx.reg.url(`${repo}@${digest}`);
  const before = ctx.reg.requests.length;
  const name = uniqueName('pin');
  await provision(name, url);
  assert.is(ctx.reg.requests.length, before, 'zero registry requests');
  const [golden, ...more] = await goldensOf(url);
  assert.ok(golden);
  assert.is(more.length, 0);
  assert.equal(golden.spec.source.registry.url, url);
  assert.is((await primarySource(name)).pvc.name, golden.metadata.name);
});

test('(d) a private image (401, the anonymous token grants nothing): not cached, the VM imports from the registry, the Machine provisions', async () => {
  const repo = `private/${uniqueName('img')}`;
  ctx.reg.push(repo, 'v1', { auth: 'private' });
  const url = ctx.reg.url(`${repo}:v1`);
  const name = uniqueName('priv');
  const logsBefore = ctx.env.fn.logs.length;
  await provision(name, url);
  // Exactly machine-controller's (IMAGE_CACHE=off) source for this Machine.
  assert.equal(await primarySource(name), { registry: { url, pullMethod: 'node' } });
  const vm = await adminKube().get<any>(vmPath(name));
  assert.not.ok(vm.spec.dataVolumeTemplates[0].metadata.labels?.[LABEL_GOLDEN], 'no golden label');
  assert.is((await goldensOf(url)).length, 0, 'no golden');
  const m = await adminKube().get<any>(machinePath(name));
  assert.not.ok(m.status?.errorReason, m.status?.errorMessage);
  assert.is(m.status.providerStatus.phase, 'Provisioning');
  // One info line says why; it carries no token.
  const lines = ctx.env.fn.logs.slice(logsBefore).filter((l) => l.includes('image not cached'));
  assert.is(lines.length, 1, ctx.env.fn.logs.slice(logsBefore).join('\n'));
  assert.match(lines[0]!, 'refuses an anonymous pull');
  assert.not.match(lines[0]!, /Bearer [0-9a-f]{16}/);
  // The anonymous token was asked for and the retry refused.
  const reqs = ctx.reg.requests.filter((r) => r.path.startsWith(`/v2/${repo}/`) || r.path.includes(encodeURIComponent(repo)));
  assert.equal(
    reqs.map((r) => r.status),
    [401, 200, 401],
  );
});

test('(e) a registry that wants a Bearer token: the anonymous token flow gets the digest; the golden is pinned to it', async () => {
  const repo = `public/${uniqueName('tok')}`;
  const digest = ctx.reg.push(repo, 'v1', { auth: 'token' });
  const url = ctx.reg.url(`${repo}:v1`);
  const before = ctx.reg.requests.length;
  const name = uniqueName('tok');
  await provision(name, url);
  const seen = ctx.reg.requests
    .slice(before)
    .map((r) => `${r.method} ${r.path.replace(/\?.*/, '')} ${r.status}${r.authorized ? ' auth' : ''}`);
  assert.equal(seen, [`HEAD /v2/${repo}/manifests/v1 401`, 'GET /token 200', `HEAD /v2/${repo}/manifests/v1 200 auth`]);
  const [golden] = await goldensOf(url);
  assert.ok(golden, 'golden');
  assert.equal(golden.spec.source.registry.url, `docker://${ctx.reg.host}/${repo}@${digest}`);
  assert.is((await primarySource(name)).pvc.name, golden.metadata.name);
});

test('a registry that is down: not cached, provisioned, as machine-controller would', async () => {
  await ctx.reg.close();
  try {
    const url = ctx.reg.url('down/img:v1');
    const name = uniqueName('down');
    await provision(name, url);
    assert.equal(await primarySource(name), { registry: { url, pullMethod: 'node' } });
    const m = await adminKube().get<any>(machinePath(name));
    assert.not.ok(m.status?.errorReason, m.status?.errorMessage);
  } finally {
    // The remaining suite hooks close it again: a fresh one on any port does no harm.
    ctx.reg = await startRegistryServer();
  }
});

test.run();
