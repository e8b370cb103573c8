/**
 * Golden images end to end (issue 18's acceptance), IMAGE_CACHE=on: the whole stack on the real
 * control plane (every function under its knative/ ServiceAccount, the event bridge, the
 * simulator running CDI's importer for the golden and holding each clone until it has
 * succeeded). A MachineDeployment of one image: the image server serves the image body once,
 * one golden, a clone per Machine, all Machines Ready; a second MachineDeployment of another
 * image adds exactly one download. A golden import that fails is reported on every Machine
 * waiting on it; with the image back, or the MachineDeployment fixed to another URL, they
 * converge. A MachineDeployment scaled to 0: a resync tick (through the Broker, as the
 * PingSource's) deletes its golden once unneeded for IMAGE_CACHE_RETENTION; goldens still cloned stay.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { startStack, INFRA_NAMESPACE, type Stack } from '../../../dev/stack/index.js';
import { rawDisk } from '../../../dev/stack/image-server.js';
import { ANN_GOLDEN_SOURCE, LABEL_GOLDEN } from '../../../shared/image/golden.js';
import { freshNamespace } from '../support/kube.js';
import { needing } from '../../support/system-tools.js';
import { describe, isReady, machineDeployment, machinesOf, paths, removeDeployments, scaleDeployment, until } from './md-support.js';
import { resyncTick } from './stack-support.js';

const test = suite('end to end: golden images (IMAGE_CACHE=on)');
const withQemu = needing(test, ['qemu-img']);
let stack: Stack;
let ns: string;
/** The acceptance: a 50-replica MachineDeployment (removed after the file, see `test.after`). */
const REPLICAS = 50;

test.before(async () => {
  stack = await startStack({
    kubeconfig: readFileSync(process.env.KUBECONFIG!, 'utf8'),
    simulatorTimings: { dvStepMs: 20, importChunkMs: 20, vmiStepMs: 20, restartBackoffMs: 40, restartBackoffMaxMs: 200 },
    backoffScale: 0.05,
    pingIntervalMs: 3_600_000,
    // A retention of 1 s: a resync tick evicts a golden unneeded for longer than that.
    env: { IMAGE_CACHE: 'on', DV_MAX_RESTARTS: '2', IMAGE_CACHE_RETENTION: '1s' },
  });
  ns = await freshNamespace('golden');
});
test.after(async () => {
  // The suite's control plane is shared: the file's Machines go before the stack that deletes them.
  try {
    if (stack && ns) await removeDeployments(stack.admin, ns);
  } finally {
    await stack?.stop();
  }
});

/** GETs of the whole file, i.e. downloads while it is served (the preflight's probe asks for a Range; CDI's importer HEADs first). */
const isDownload = (r: { method: string; range?: string }) => r.method === 'GET' && !r.range;
const downloads = (file: string) => stack.images.requests.filter((r) => r.path === file && isDownload(r)).length;

async function goldensOf(url: string): Promise<any[]> {
  const list = await stack.admin.request<{ items: any[] }>(
    'GET',
    `/apis/cdi.kubevirt.io/v1beta1/namespaces/${INFRA_NAMESPACE}/datavolumes`,
    {
      query: { labelSelector: LABEL_GOLDEN },
    },
  );
  return list.items.filter(
    (d) => d.metadata.annotations?.[ANN_GOLDEN_SOURCE] === url && d.metadata.name === d.metadata.labels[LABEL_GOLDEN],
  );
}

async function deployAndWait(name: string, file: string, replicas: number): Promise<{ url: string; machines: any[] }> {
  stack.images.files.set(file, rawDisk(1024 * 1024));
  const url = stack.images.url(file);
  await stack.admin.create(paths.mds(ns), machineDeployment(url, ns, name, { replicas, labels: { pool: name } }));
  let machines: any[] = [];
  await until(
    `${replicas} Machines of ${name} Ready`,
    async () => {
      machines = (await machinesOf(stack.admin, ns)).filter((m) => m.metadata.labels?.pool === name);
      return [machines.length === replicas && machines.every(isReady), describe(machines)];
    },
    { timeoutMs: 180_000, intervalMs: 200 },
  );
  return { url, machines };
}

withQemu(`a MachineDeployment of ${REPLICAS}: the image is downloaded once, one golden, a clone per Machine, all Ready`, async () => {
  const { url, machines } = await deployAndWait('pool-a', 'pool-a.img', REPLICAS);
  assert.is(machines.length, REPLICAS);
  assert.is(downloads('pool-a.img'), 1, 'the image body was served once');
  const goldens = await goldensOf(url);
  assert.is(goldens.length, 1);
  assert.is(goldens[0].status?.phase, 'Succeeded');
  for (const m of machines) {
    const dv = await stack.admin.get<any>(`/apis/cdi.kubevirt.io/v1beta1/namespaces/${INFRA_NAMESPACE}/datavolumes/${m.metadata.name}`);
    assert.equal(dv.spec.source, { pvc: { namespace: INFRA_NAMESPACE, name: goldens[0].metadata.name } }, m.metadata.name);
    assert.is(dv.status.phase, 'Succeeded');
  }
});

withQemu('a second MachineDeployment of another image adds exactly one download', async () => {
  const before = stack.images.requests.filter(isDownload).length;
  const { url } = await deployAndWait('pool-b', 'pool-b.img', 3);
  assert.is(downloads('pool-b.img'), 1);
  assert.is(stack.images.requests.filter(isDownload).length - before, 1, 'one download in all');
  assert.is((await goldensOf(url)).length, 1);
});

test('a golden import that fails after the preflight: every Machine cloning it reports the failure; with the image back they converge', async () => {
  const file = 'pool-c.img';
  stack.images.files.set(file, rawDisk(1024 * 1024));
  const url = stack.images.url(file);
  await stack.admin.create(paths.mds(ns), machineDeployment(url, ns, 'pool-c', { replicas: 3, labels: { pool: 'pool-c' } }));
  // Withdrawn as soon as the preflight has read it (once for all three: the probe is shared and
  // remembered), before CDI's importer runs: the golden import gets a 404.
  await until('the preflight probed the image', async () => [stack.images.requests.some((r) => r.path === file && r.range), ''], {
    timeoutMs: 30_000,
    intervalMs: 5,
  });
  stack.images.withdraw(file);
  let machines: any[] = [];
  await until(
    'all three Machines report the golden failure',
    async () => {
      machines = (await machinesOf(stack.admin, ns)).filter((m) => m.metadata.labels?.pool === 'pool-c');
      return [machines.length === 3 && machines.every((m) => m.status?.errorReason === 'CreateError'), describe(machines)];
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  const [golden] = await goldensOf(url);
  assert.ok(golden, 'the golden exists');
  for (const m of machines) {
    assert.match(m.status.errorMessage, `waits on golden image ${INFRA_NAMESPACE}/${golden.metadata.name}, whose import failed`);
    assert.match(m.status.errorMessage, 'expected status code 200, got 404');
    assert.is(m.status.providerStatus.phase, 'Failed');
  }

  // The image is back at its URL: CDI's importer retries the golden, the clones follow, and each
  // Machine's error (the datavolume function's own) is cleared as it converges.
  stack.images.files.set(file, rawDisk(1024 * 1024));
  await until(
    'all three Machines Ready, their errors cleared',
    async () => {
      machines = (await machinesOf(stack.admin, ns)).filter((m) => m.metadata.labels?.pool === 'pool-c');
      return [machines.length === 3 && machines.every((m) => isReady(m) && !m.status?.errorReason), describe(machines)];
    },
    { timeoutMs: 90_000, intervalMs: 200 },
  );
});

test('a golden import that fails: the MachineDeployment fixed to another URL rolls out Machines of a new golden, and the failed ones go', async () => {
  const bad = 'pool-d-withdrawn.img';
  stack.images.files.set(bad, rawDisk(1024 * 1024));
  const badUrl = stack.images.url(bad);
  await stack.admin.create(
    paths.mds(ns),
    machineDeployment(badUrl, ns, 'pool-d', { replicas: 2, maxSurge: 2, maxUnavailable: 0, labels: { pool: 'pool-d' } }),
  );
  await until('the preflight probed the image', async () => [stack.images.requests.some((r) => r.path === bad && r.range), ''], {
    timeoutMs: 30_000,
    intervalMs: 5,
  });
  stack.images.withdraw(bad);
  const mine = async () => (await machinesOf(stack.admin, ns)).filter((m) => m.metadata.labels?.pool === 'pool-d');
  await until(
    'both Machines report the golden failure',
    async () => {
      const ms = await mine();
      return [ms.length === 2 && ms.every((m) => m.status?.errorReason === 'CreateError'), describe(ms)];
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  const failed = new Set((await mine()).map((m) => m.metadata.name));

  // The user's fix: the template names an image that is there.
  const good = 'pool-d-fixed.img';
  stack.images.files.set(good, rawDisk(1024 * 1024));
  const goodUrl = stack.images.url(good);
  const fixed = machineDeployment(goodUrl, ns, 'pool-d', { labels: { pool: 'pool-d' } });
  await stack.admin.patch(paths.md(ns, 'pool-d'), 'merge', { spec: { template: fixed.spec.template } });
  await until(
    'two Machines of the fixed template Ready, the failed ones gone',
    async () => {
      const ms = await mine();
      const ok = ms.length === 2 && ms.every((m) => isReady(m) && !failed.has(m.metadata.name) && !m.status?.errorReason);
      return [ok, describe(ms)];
    },
    { timeoutMs: 90_000, intervalMs: 200 },
  );
  const [golden] = await goldensOf(goodUrl);
  assert.ok(golden, 'a golden of the fixed URL');
  assert.is(golden.status?.phase, 'Succeeded');
  assert.is(downloads(good), 1, 'the fixed image downloaded once');
});

test('a MachineDeployment of a registry image behind a token: one golden pinned to the digest the tag names, a clone per Machine, all Ready', async () => {
  const digest = stack.registry.push('containerdisks/fedora', '40', { auth: 'token' });
  const url = stack.registry.url('containerdisks/fedora:40');
  await stack.admin.create(paths.mds(ns), machineDeployment(url, ns, 'pool-r', { replicas: 3, labels: { pool: 'pool-r' } }));
  let machines: any[] = [];
  await until(
    '3 Machines of pool-r Ready',
    async () => {
      machines = (await machinesOf(stack.admin, ns)).filter((m) => m.metadata.labels?.pool === 'pool-r');
      return [machines.length === 3 && machines.every(isReady), describe(machines)];
    },
    { timeoutMs: 90_000, intervalMs: 200 },
  );
  const goldens = await goldensOf(stack.registry.url('containerdisks/fedora:40'));
  assert.is(goldens.length, 1, 'one golden');
  const [golden] = goldens;
  assert.is(golden.spec.source.registry.url, `docker://${stack.registry.host}/containerdisks/fedora@${digest}`, 'it imports the digest');
  assert.is(golden.status?.phase, 'Succeeded');
  for (const m of machines) {
    const dv = await stack.admin.get<any>(`/apis/cdi.kubevirt.io/v1beta1/namespaces/${INFRA_NAMESPACE}/datavolumes/${m.metadata.name}`);
    assert.equal(dv.spec.source, { pvc: { namespace: INFRA_NAMESPACE, name: golden.metadata.name } }, m.metadata.name);
  }
  // The burst shared one lookup: the challenge, the token, the manifest with it.
  const lookups = stack.registry.manifestRequests('containerdisks/fedora');
  assert.equal(
    lookups.map((r) => [r.method, r.status, r.authorized]),
    [
      ['HEAD', 401, false],
      ['HEAD', 200, true],
    ],
  );
});

withQemu(
  'a MachineDeployment scaled to 0: the next resync tick past the retention evicts its golden; a golden still cloned stays',
  async () => {
    const file = 'pool-gc.img';
    stack.images.files.set(file, rawDisk(1024 * 1024));
    const url = stack.images.url(file);
    await stack.admin.create(paths.mds(ns), machineDeployment(url, ns, 'pool-gc', { replicas: 2, labels: { pool: 'pool-gc' } }));
    const mine = async () => (await machinesOf(stack.admin, ns)).filter((m) => m.metadata.labels?.pool === 'pool-gc');
    await until('2 Machines of pool-gc Ready', async () => {
      const ms = await mine();
      return [ms.length === 2 && ms.every(isReady), describe(ms)];
    });
    const [golden] = await goldensOf(url);
    assert.ok(golden, 'its golden');
    const kept = await goldensOf(stack.images.url('pool-a.img'));
    assert.is(kept.length, 1, "pool-a's golden (the first test's MachineDeployment, still at its replicas)");

    await scaleDeployment(stack.admin, ns, 'pool-gc', 0);
    await until('pool-gc Machines gone', async () => [(await mine()).length === 0, describe(await mine())], {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    const gone = async () => (await goldensOf(url)).length === 0;
    // Each tick: orphans first (clones of gone Machines), then goldens unneeded for over 1 s.
    await until(
      'the golden evicted by a resync tick',
      async () => {
        assert.is(await resyncTick(stack.bridge!.ingressUrl), 202);
        return [await gone(), 'golden still there'];
      },
      { timeoutMs: 30_000, intervalMs: 1500 },
    );
    for (const g of kept) {
      const still = await stack.admin.get<any>(
        `/apis/cdi.kubevirt.io/v1beta1/namespaces/${INFRA_NAMESPACE}/datavolumes/${g.metadata.name}`,
      );
      assert.ok(still, "pool-a's golden, cloned by its VMs' templates, stays");
      assert.ok(still.metadata.annotations['kubevirt-machine-functions.io/golden-last-needed'], 'stamped needed by the tick');
    }
  },
);

test.run();
