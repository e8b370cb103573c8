/**
 * The resync tick's golden image collection (functions/resync/golden-gc.ts) on the real API
 * server, with a retention shortened to 1 s: a golden no disk needs is deleted once unneeded
 * for longer than that, one a clone still reads or a VM's template clones is kept (its "last
 * needed" stamped), a golden that stops being needed goes one retention later, one that never
 * Succeeded after 10 min at most;
 * `machine.image.cached` is sent once per succeeded golden, `machine.image.evicted` per deletion.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { CloudEvent } from 'cloudevents';
import { adminKube } from '../support/admin.js';
import { freshNamespace, uniqueName } from '../support/kube.js';
import { collectGoldens, UNFINISHED_RETENTION_MS, type GoldenGcDeps } from '../../../functions/resync/golden-gc.js';
import { FollowUpType } from '../../../events/followup.js';
import {
  ANN_GOLDEN_CACHED,
  ANN_GOLDEN_LAST_NEEDED,
  LABEL_GOLDEN,
  buildGoldenDataVolume,
  cloneFromGolden,
  goldenName,
} from '../../../shared/image/golden.js';
import { createLogger } from '../../../shared/runtime/log.js';

const test = suite('resync: golden images collected after IMAGE_CACHE_RETENTION');
const ctx = {} as { ns: string; events: CloudEvent<any>[]; deps: GoldenGcDeps };
const OURS = { 'app.kubernetes.io/managed-by': 'kubevirt-machine-functions' };

test.before(async () => {
  ctx.ns = await freshNamespace('infra-gc');
  ctx.events = [];
  ctx.deps = {
    infra: adminKube(),
    sink: { send: async (e) => void ctx.events.push(e) },
    ceOverrides: {},
    env: { IMAGE_CACHE_RETENTION: '1s' },
  };
});

const dvPath = (name: string) => `/apis/cdi.kubevirt.io/v1beta1/namespaces/${ctx.ns}/datavolumes/${name}`;
const log = createLogger({}, () => undefined);
const tick = () => collectGoldens(ctx.deps, log);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function golden(tag: string): Promise<any> {
  const name = goldenName(uniqueName(tag));
  const dv = buildGoldenDataVolume({
    name,
    namespace: ctx.ns,
    source: { http: { url: `http://images.example/${tag}.img` } },
    storage: { target: 'storage', storageClassName: '', accessMode: 'ReadWriteOnce' },
    content: { etag: `"${tag}"` },
    sizing: { ok: true, usableBytes: 1024 * 1024, request: '1Mi', fromImage: true },
  });
  return adminKube().create(`/apis/cdi.kubevirt.io/v1beta1/namespaces/${ctx.ns}/datavolumes`, dv);
}

async function setPhase(name: string, phase: string): Promise<void> {
  await adminKube().patch(`${dvPath(name)}/status`, 'merge', { status: { phase } });
}

/** A clone DataVolume of `g` as KubeVirt makes it from a VM template (labels and source). */
async function clone(g: string, name = uniqueName('clone')): Promise<string> {
  const [t] = cloneFromGolden(
    [
      {
        metadata: { name, labels: { ...OURS } },
        spec: { source: { http: { url: 'http://images.example/x.img' } }, storage: { resources: { requests: { storage: '1Mi' } } } },
      },
    ],
    { namespace: ctx.ns, name: g },
  );
  await adminKube().create(`/apis/cdi.kubevirt.io/v1beta1/namespaces/${ctx.ns}/datavolumes`, {
    apiVersion: 'cdi.kubevirt.io/v1beta1',
    kind: 'DataVolume',
    ...t,
  });
  return name;
}

const exists = async (name: string) => (await adminKube().get(dvPath(name))) !== undefined;
const ofType = (type: string, name: string) => ctx.events.filter((e) => e.type === type && e.data.golden.name === name);

test('unneeded past the retention: deleted (UID precondition), evicted once; a cloned one kept; cached announced once', async () => {
  const idle = await golden('idle');
  const cloned = await golden('cloned');
  await setPhase(idle.metadata.name, 'Succeeded');
  const reading = await clone(cloned.metadata.name);

  // Within the retention: nothing deleted; the succeeded golden announced.
  await tick();
  assert.ok(await exists(idle.metadata.name), 'not yet: unneeded for less than 1 s');
  const cached = ofType(FollowUpType.imageCached, idle.metadata.name);
  assert.is(cached.length, 1);
  assert.is(cached[0].subject, `${ctx.ns}/${idle.metadata.name}`);
  assert.equal(cached[0].data.golden, { namespace: ctx.ns, name: idle.metadata.name, uid: idle.metadata.uid });
  assert.is(cached[0].data.source, 'http://images.example/idle.img');
  assert.equal(cached[0].data.content, { etag: '"idle"' });
  assert.not.ok(cached[0].machineuid, 'no Machine: it is shared');
  assert.ok((await adminKube().get(dvPath(idle.metadata.name))).metadata.annotations[ANN_GOLDEN_CACHED]);

  await sleep(1500);
  await tick();
  assert.not.ok(await exists(idle.metadata.name), 'unneeded for longer than the retention: deleted');
  const evicted = ofType(FollowUpType.imageEvicted, idle.metadata.name);
  assert.is(evicted.length, 1);
  assert.is(evicted[0].data.lastNeeded, idle.metadata.creationTimestamp, 'never needed: counted from its creation');
  assert.ok(evicted[0].data.idleSeconds >= 1);
  assert.is(ofType(FollowUpType.imageCached, idle.metadata.name).length, 1, 'cached sent once');

  // The cloned one: a clone that has not succeeded still reads it.
  const kept = await adminKube().get<any>(dvPath(cloned.metadata.name));
  assert.ok(kept, 'a golden a clone still reads is kept');
  assert.ok(Date.parse(kept.metadata.annotations[ANN_GOLDEN_LAST_NEEDED]) > Date.parse(cloned.metadata.creationTimestamp) - 1000);
  assert.is(ofType(FollowUpType.imageEvicted, cloned.metadata.name).length, 0);

  // The clone succeeds (and no VM clones it): unneeded from the last tick that saw it needed.
  await setPhase(reading, 'Succeeded');
  await tick();
  assert.ok(await exists(cloned.metadata.name), 'needed 0 s ago');
  await sleep(1500);
  await tick();
  assert.not.ok(await exists(cloned.metadata.name), 'unneeded past the retention: deleted');
  const gone = ofType(FollowUpType.imageEvicted, cloned.metadata.name);
  assert.is(gone.length, 1);
  assert.is(gone[0].data.lastNeeded, kept.metadata.annotations[ANN_GOLDEN_LAST_NEEDED]);
  assert.ok(await exists(reading), 'the clone itself is not ours to collect here');
});

test('a VM whose template clones a golden keeps it, whatever its clones did; a golden of another name is left alone', async () => {
  const g = await golden('vm');
  const dv = await clone(g.metadata.name);
  await setPhase(dv, 'Succeeded');
  const [t] = cloneFromGolden(
    [
      {
        metadata: { name: dv, labels: { ...OURS } },
        spec: { source: { http: { url: 'x' } }, storage: { resources: { requests: { storage: '1Mi' } } } },
      },
    ],
    { namespace: ctx.ns, name: g.metadata.name },
  );
  await adminKube().create(`/apis/kubevirt.io/v1/namespaces/${ctx.ns}/virtualmachines`, {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name: uniqueName('vm'), labels: { ...OURS } },
    spec: {
      runStrategy: 'Halted',
      dataVolumeTemplates: [t],
      template: { spec: { domain: { devices: {} }, volumes: [{ name: 'root', dataVolume: { name: dv } }] } },
    },
  });
  // Not ours: a DataVolume carrying the golden label under its own name, but no managed-by.
  const stranger = uniqueName('stranger');
  await adminKube().create(`/apis/cdi.kubevirt.io/v1beta1/namespaces/${ctx.ns}/datavolumes`, {
    apiVersion: 'cdi.kubevirt.io/v1beta1',
    kind: 'DataVolume',
    metadata: { name: stranger, labels: { [LABEL_GOLDEN]: stranger } },
    spec: { source: { blank: {} }, storage: { resources: { requests: { storage: '1Mi' } } } },
  });
  await tick();
  await sleep(1500);
  await tick();
  assert.ok(await exists(g.metadata.name), 'a VM template clones it: kept');
  assert.ok((await adminKube().get<any>(dvPath(g.metadata.name))).metadata.annotations[ANN_GOLDEN_LAST_NEEDED]);
  assert.ok(await exists(stranger), 'not ours: never touched');
  assert.is(ofType(FollowUpType.imageEvicted, g.metadata.name).length, 0);
});

test('a golden that never Succeeded (its import failing) goes once unneeded for 10 min, whatever the retention; a Succeeded one stays for the retention', async () => {
  const failing = await golden('failing');
  await setPhase(failing.metadata.name, 'ImportInProgress');
  const imported = await golden('imported');
  await setPhase(imported.metadata.name, 'Succeeded');
  // A day's retention, and a clock moved on from the goldens' creation (never needed: counted from it).
  const created = Date.parse(failing.metadata.creationTimestamp);
  const tickAt = (ms: number) => collectGoldens({ ...ctx.deps, env: { IMAGE_CACHE_RETENTION: '24h' }, now: () => created + ms }, log);
  await tickAt(UNFINISHED_RETENTION_MS - 60_000);
  assert.ok(await exists(failing.metadata.name), 'unneeded for 9 min: kept');
  await tickAt(UNFINISHED_RETENTION_MS + 60_000);
  assert.not.ok(await exists(failing.metadata.name), 'unneeded for 11 min and never imported: deleted');
  assert.is(ofType(FollowUpType.imageEvicted, failing.metadata.name).length, 1);
  assert.ok(await exists(imported.metadata.name), 'imported: kept for the 24 h retention');
  await tickAt(24 * 3600_000 + 60_000);
  assert.not.ok(await exists(imported.metadata.name), 'imported, unneeded past the retention: deleted');
});

test.run();
