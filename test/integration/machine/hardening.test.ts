/**
 * The machine function under hostile or careless input (issue 15): a providerSpec kubeconfig
 * that points at local files or a refused address, forged event payloads, Secret values that
 * must not be echoed, and infra API refusals that used to stall silently. Each case checks what
 * was contacted, created and written, not just the answer.
 */
import http from 'node:http';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { adminKube, applyManifests } from '../support/admin.js';
import { eventually, uniqueName } from '../support/kube.js';
import { bindReferences, exampleProviderSpec, machineObject, machineSuite } from '../support/machine-env.js';
import { post, resourceEvent } from '../support/apiserver-events.js';
import { FollowUpType } from '../../../events/followup.js';
import { badSpecs, CANARY } from '../../support/bad-specs.js';

const { test, ctx } = machineSuite('machine function: hardening');

const MACHINES = () => `/apis/cluster.k8s.io/v1alpha1/namespaces/${ctx.ns}/machines`;
const vmPath = (ns: string, name: string) => `/apis/kubevirt.io/v1/namespaces/${ns}/virtualmachines/${name}`;
const spec = (): any =>
  exampleProviderSpec('kubevirt-machinedeployment.yaml', {
    kubeconfigB64: ctx.env.infraKubeconfigB64,
    kubeconfigRaw: ctx.env.saKubeconfig,
    imageUrl: ctx.env.imageUrl,
  }).value;
const b64 = (s: string) => Buffer.from(s).toString('base64');
/** The example without its instancetype and preference, so cpus and memory are used. */
const sizedSpec = (): any => {
  const v = spec();
  delete v.cloudProviderSpec.virtualMachine.instancetype;
  delete v.cloudProviderSpec.virtualMachine.preference;
  return v;
};

/** A loopback HTTP server that records every request it gets (the exfiltration target). */
async function recorder(): Promise<{ url: string; requests: { path: string; authorization?: string }[]; close(): Promise<void> }> {
  const requests: { path: string; authorization?: string }[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ path: req.url ?? '', authorization: req.headers.authorization });
    res.statusCode = 404;
    res.end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A kubeconfig for `server` whose user is `user`. */
const kubeconfig = (server: string, user: Record<string, unknown>) =>
  stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server } }],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'x',
  });

async function create(name: string, value: unknown): Promise<any> {
  return adminKube().create(MACHINES(), machineObject(name, ctx.ns, value));
}
const read = (name: string) => adminKube().get(`${MACHINES()}/${name}`);

test('a kubeconfig naming a tokenFile (the function`s own ServiceAccount token) is refused before anything is read or sent', async () => {
  const target = await recorder();
  try {
    for (const [field, user] of [
      ['tokenFile', { tokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token' }],
      ['client-key', { 'client-certificate-data': b64('x'), 'client-key': '/etc/ssl/private/key.pem' }],
      ['exec', { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'cat' } }],
    ] as const) {
      const value = spec();
      value.cloudProviderSpec.auth.kubeconfig = { value: b64(kubeconfig(target.url, user)) };
      const name = uniqueName('kcfile');
      const m = await create(name, value);
      assert.is(await post(ctx.env.fn.url, resourceEvent('add', m)), 200);
      const after = await read(name);
      assert.is(after.status?.errorReason, 'InvalidConfiguration', field);
      assert.match(after.status.errorMessage, new RegExp(field), `the message names ${field}`);
      assert.not.ok(after.metadata.finalizers?.length, 'no finalizer');
    }
    assert.equal(target.requests, [], 'the kubeconfig`s server was never contacted');
  } finally {
    await target.close();
  }
});

test('an infra server at the metadata address is refused by the SSRF guard, permanently, on the Machine', async () => {
  const value = spec();
  value.cloudProviderSpec.auth.kubeconfig = { value: b64(kubeconfig('http://169.254.169.254', { token: 'x' })) };
  const name = uniqueName('kcmeta');
  const m = await create(name, value);
  assert.is(await post(ctx.env.fn.url, resourceEvent('add', m)), 200);
  const after = await read(name);
  assert.is(after.status.errorReason, 'InvalidConfiguration');
  assert.match(after.status.errorMessage, /169\.254\.169\.254.*server-side request forgery/);
});

test('a forged event for a Machine that does not exist contacts nothing and creates nothing', async () => {
  const target = await recorder();
  try {
    const value = spec();
    value.cloudProviderSpec.auth.kubeconfig = { value: b64(kubeconfig(target.url, { token: 'forged' })) };
    const name = uniqueName('forged');
    const forged = machineObject(name, ctx.ns, value);
    forged.metadata.uid = '00000000-0000-0000-0000-000000000001';
    forged.metadata.resourceVersion = '1';
    for (const op of ['add', 'update', 'delete'] as const) assert.is(await post(ctx.env.fn.url, resourceEvent(op, forged)), 200, op);
    assert.equal(target.requests, [], 'the payload`s kubeconfig server was never contacted');
    assert.not.ok(await adminKube().get(vmPath(ctx.env.infraNamespace, name)), 'no VM');
    assert.not.ok(await read(name), 'no Machine appeared');
  } finally {
    await target.close();
  }
});

test('a forged update carrying a real Machine`s uid and resourceVersion but other resources builds the stored spec', async () => {
  const name = uniqueName('forgedupd');
  const m = await create(name, sizedSpec());
  const forged = structuredClone(m);
  forged.spec.providerSpec.value.cloudProviderSpec.virtualMachine.template.cpus = '7';
  forged.spec.providerSpec.value.cloudProviderSpec.virtualMachine.template.memory = '7Gi';
  assert.is(await post(ctx.env.fn.url, resourceEvent('update', forged)), 200);
  const vm = await adminKube().get(vmPath(ctx.env.infraNamespace, name));
  assert.ok(vm, 'the VM of the stored Machine');
  const domain = vm.spec.template.spec.domain;
  assert.is.not(domain.cpu?.cores ?? domain.resources?.requests?.cpu, 7, 'not the forged CPUs');
  assert.not.ok(JSON.stringify(domain).includes('7Gi'), 'not the forged memory');
  assert.is(
    String(domain.resources.requests.cpu ?? domain.cpu.cores),
    String(m.spec.providerSpec.value.cloudProviderSpec.virtualMachine.template.cpus),
  );
});

test('a Secret value behind a secretKeyRef never appears in status, Events, follow-ups or logs; a password in the image URL neither', async () => {
  const canary = 'canary-7f3c-do-not-echo';
  await bindReferences(ctx.ns);
  await applyManifests(
    stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cpus', namespace: ctx.ns }, stringData: { token: canary } }),
  );
  const value = sizedSpec();
  value.cloudProviderSpec.virtualMachine.template.cpus = { secretKeyRef: { namespace: ctx.ns, name: 'cpus', key: 'token' } };
  const name = uniqueName('echo');
  const m = await create(name, value);
  assert.is(await post(ctx.env.fn.url, resourceEvent('add', m)), 200);
  const after = await read(name);
  assert.is(after.status.errorReason, 'InvalidConfiguration');
  assert.match(after.status.errorMessage, /secretKeyRef [^/]+\/cpus\[token\]/, 'names the reference');
  await eventually('Warning Event', async () => {
    const events = await adminKube().request('GET', `/api/v1/namespaces/${ctx.ns}/events`, {
      query: { fieldSelector: `involvedObject.name=${name}` },
    });
    return events.items.length > 0;
  });
  const events = await adminKube().request('GET', `/api/v1/namespaces/${ctx.ns}/events`, {
    query: { fieldSelector: `involvedObject.name=${name}` },
  });
  const failed = ctx.env.sink.ofType(FollowUpType.failed).filter((e) => JSON.stringify(e.data).includes(name));
  assert.ok(failed.length > 0, 'a machine.failed follow-up');
  for (const [where, text] of [
    ['status', JSON.stringify(after.status)],
    ['Events', JSON.stringify(events.items)],
    ['follow-ups', JSON.stringify(failed)],
    ['logs', ctx.env.fn.logs.join('\n')],
  ]) {
    assert.not.ok(text.includes(canary), `${where} must not hold the Secret's value`);
  }

  const withPassword = spec();
  const url = new URL(ctx.env.imageUrl);
  url.username = 'user';
  url.password = 'image-pass-8d1e';
  url.search = '?sig=image-sig-5a2b';
  withPassword.cloudProviderSpec.virtualMachine.template.primaryDisk.osImage = url.toString();
  const n2 = uniqueName('pw');
  const m2 = await create(n2, withPassword);
  assert.is(await post(ctx.env.fn.url, resourceEvent('add', m2)), 200);
  const prov = await ctx.env.sink.waitFor((e) => e.type === FollowUpType.provisioning && JSON.stringify(e.data).includes(n2));
  const text = JSON.stringify(prov);
  assert.not.ok(
    text.includes('image-pass-8d1e') || text.includes('image-sig-5a2b'),
    `machine.provisioning names the URL without credentials: ${text}`,
  );
});

test('a reference into another namespace is refused, naming it (no cluster-wide Secret reads)', async () => {
  const value = spec();
  value.cloudProviderSpec.auth.kubeconfig = { secretKeyRef: { namespace: 'kube-system', name: 'anything', key: 'token' } };
  const name = uniqueName('xns');
  const m = await create(name, value);
  assert.is(await post(ctx.env.fn.url, resourceEvent('add', m)), 200);
  const after = await read(name);
  assert.is(after.status.errorReason, 'InvalidConfiguration');
  assert.match(after.status.errorMessage, /secretKeyRef kube-system\/anything.*not allowed/);
});

test('infra refusals land on the Machine: a userdata Secret over the API`s 1 MiB (422), a namespace outside the RBAC (403); deleting the latter reports DeleteError', async () => {
  const invalid = spec();
  // Valid by every rule of ours, but its userdata Secret exceeds what the API server stores.
  invalid.sshPublicKeys = Array.from({ length: 12 }, (_, i) => `ssh-ed25519 ${'A'.repeat(100_000)} key-${i}`);
  const n1 = uniqueName('r422');
  const m1 = await create(n1, invalid);
  assert.is(await post(ctx.env.fn.url, resourceEvent('add', m1)), 200);
  const a1 = await read(n1);
  assert.is(a1.status.errorReason, 'InvalidConfiguration', JSON.stringify(a1.status));
  assert.match(a1.status.errorMessage, /refused .*422/);

  // The flat schema's namespace: one the function's infra RoleBinding does not cover.
  const outside = uniqueName('norbac');
  await adminKube().create('/api/v1/namespaces', { metadata: { name: outside } });
  const flat = {
    cloudProvider: 'kubevirt',
    operatingSystem: 'ubuntu',
    operatingSystemSpec: {},
    cloudProviderSpec: {
      sourceURL: ctx.env.imageUrl,
      pvcSize: '10Gi',
      cpus: '1',
      memory: '2Gi',
      namespace: outside,
      storageClassName: 'kubermatic-fast',
    },
  };
  const n2 = uniqueName('r403');
  const m2 = await create(n2, flat);
  assert.is(await post(ctx.env.fn.url, resourceEvent('add', m2)), 200);
  const a2 = await read(n2);
  assert.is(a2.status.errorReason, 'CreateError', JSON.stringify(a2.status));
  assert.match(a2.status.errorMessage, /403.*forbidden.*cannot/i);
  assert.not.ok(await adminKube().get(vmPath(outside, n2)), 'nothing created');
  assert.ok(a2.metadata.finalizers?.length, 'the finalizer was written before the infra refused');
  // The infra still refuses on delete: the Machine says so instead of hanging silently.
  await adminKube().delete(`${MACHINES()}/${n2}`);
  const deleting = await read(n2);
  assert.is(await post(ctx.env.fn.url, resourceEvent('update', deleting)), 200);
  const a3 = await read(n2);
  assert.is(a3.status.errorReason, 'DeleteError');
  assert.match(a3.status.errorMessage, /remove the finalizer/);
  // An operator grants the permission (or cleans up by hand): the next event finishes the deletion.
  await adminKube().patch(`${MACHINES()}/${n2}`, 'merge', { metadata: { finalizers: null } });
});

test('the bad-input corpus (200+ invalid specs) through the function: each refused on the Machine naming its field, no Secret value anywhere, nothing created, no crash', async () => {
  await bindReferences(ctx.ns);
  const flat = () => ({
    cloudProvider: 'kubevirt',
    operatingSystem: 'ubuntu',
    operatingSystemSpec: {},
    sshPublicKeys: ['ssh-ed25519 AAAA test'],
    cloudProviderSpec: { sourceURL: ctx.env.imageUrl, pvcSize: '10Gi', cpus: '1', memory: '2Gi', storageClassName: 'kubermatic-fast' },
  });
  const cases = badSpecs({ nested: spec, flat }, ctx.ns);
  assert.ok(cases.length >= 200, `${cases.length} cases`);
  const stores = new Map<string, { kind: 'Secret' | 'ConfigMap'; data: Record<string, string> }>();
  for (const c of cases) {
    for (const [id, data] of Object.entries(c.secrets)) stores.set(`Secret ${id}`, { kind: 'Secret', data });
    for (const [id, data] of Object.entries(c.configMaps)) stores.set(`ConfigMap ${id}`, { kind: 'ConfigMap', data });
  }
  for (const [key, { kind, data }] of stores) {
    const [ns, name] = key.split(' ')[1]!.split('/');
    await applyManifests(
      stringify({ apiVersion: 'v1', kind, metadata: { name, namespace: ns }, ...(kind === 'Secret' ? { stringData: data } : { data }) }),
    );
  }
  const names: string[] = [];
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < cases.length; i = next++) {
      const c = cases[i]!;
      const name = `bad-${i}-${uniqueName('c').slice(-5)}`;
      names.push(name);
      const m = await create(name, c.value);
      const status = await post(ctx.env.fn.url, resourceEvent('add', m));
      const after = await read(name);
      const text = JSON.stringify(after.status ?? {});
      if (status !== 200) failures.push(`${c.name}: HTTP ${status}`);
      else if (after.status?.errorReason !== 'InvalidConfiguration') failures.push(`${c.name}: errorReason ${after.status?.errorReason}`);
      else if (!after.status.errorMessage.includes(c.path))
        failures.push(`${c.name}: message lacks ${c.path}: ${after.status.errorMessage}`);
      else if (text.includes(CANARY)) failures.push(`${c.name}: the Secret's value is in the status`);
      else if (after.metadata.finalizers?.length) failures.push(`${c.name}: a finalizer was added`);
    }
  };
  await Promise.all(Array.from({ length: 6 }, worker));
  assert.equal(failures, []);
  const vms = await adminKube().request('GET', `/apis/kubevirt.io/v1/namespaces/${ctx.env.infraNamespace}/virtualmachines`);
  const dvs = await adminKube().request('GET', `/apis/cdi.kubevirt.io/v1beta1/namespaces/${ctx.env.infraNamespace}/datavolumes`);
  const secrets = await adminKube().request('GET', `/api/v1/namespaces/${ctx.env.infraNamespace}/secrets`);
  const made = [...vms.items, ...dvs.items, ...secrets.items]
    .map((o: any) => o.metadata.name)
    .filter((n: string) => names.some((b) => n.includes(b)));
  assert.equal(made, [], 'nothing created on the infra cluster');
  const events = await adminKube().request('GET', `/api/v1/namespaces/${ctx.ns}/events`);
  assert.not.ok(JSON.stringify(events.items).includes(CANARY), 'no Secret value in an Event');
  assert.not.ok(JSON.stringify(ctx.env.sink.events).includes(CANARY), 'no Secret value in a follow-up');
  assert.not.ok(ctx.env.fn.logs.join('\n').includes(CANARY), 'no Secret value in the logs');
  assert.ok(ctx.env.fn.logs.length > 0, 'the function is alive and logging');
});

test.run();
