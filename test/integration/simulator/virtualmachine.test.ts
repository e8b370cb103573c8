/**
 * The simulated virt-controller / virt-handler against a real apiserver: DataVolumes from
 * templates, VMI phases up to Running with an address, run strategies, VM status and deletion.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  collectionPath,
  CONFIG_MAP,
  DATA_VOLUME,
  objectPath,
  VIRTUAL_MACHINE,
  VIRTUAL_MACHINE_INSTANCE,
} from '../../../shared/kube/paths.js';
import { VMI_FAIL_ANNOTATION, type Simulator } from '../../../dev/simulator/index.js';
import { adminKube } from '../support/admin.js';
import { eventually, freshNamespace } from '../support/kube.js';
import { nominalVm } from '../support/objects.js';
import {
  condition,
  httpDataVolume,
  record,
  startImageServer,
  startTestSimulator,
  until,
  type ImageServer,
  type Recorder,
} from './support.js';

const test = suite('simulator: VirtualMachine (KubeVirt)');
let server: ImageServer;
let sim: Simulator | undefined;
let ns: string;
const recorders: Recorder[] = [];

test.before(async () => {
  server = await startImageServer();
});
test.after(async () => {
  await server.close();
});
test.before.each(async () => {
  ns = await freshNamespace('sim-vm');
  sim = await startTestSimulator([ns]);
});
test.after.each(async () => {
  for (const r of recorders.splice(0)) r.stop();
  await sim?.stop();
  sim = undefined;
});

const kube = () => adminKube();
const phaseOf = (o: any): string => o?.status?.phase ?? '';

function vm(
  name: string,
  opts: { runStrategy?: string; running?: boolean; url?: string; annotations?: Record<string, string> } = {},
): Record<string, unknown> {
  const run = opts.running !== undefined ? { running: opts.running } : { runStrategy: opts.runStrategy ?? 'Always' };
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name },
    spec: {
      ...run,
      dataVolumeTemplates: [
        {
          metadata: { name: `${name}-root`, labels: { tier: 'disk' }, annotations: { 'note.example/a': 'b' } },
          spec: (httpDataVolume('x', opts.url ?? server.url('/disk.img')) as any).spec,
        },
      ],
      template: {
        metadata: { labels: { 'kubevirt.io/vm': name }, annotations: opts.annotations ?? {} },
        spec: {
          domain: {
            devices: { interfaces: [{ name: 'default', bridge: {} }], disks: [{ name: 'root', disk: { bus: 'virtio' } }] },
            memory: { guest: '1Gi' },
          },
          networks: [{ name: 'default', pod: {} }],
          volumes: [{ name: 'root', dataVolume: { name: `${name}-root` } }],
        },
      },
    },
  };
}

async function createVm(body: Record<string, unknown>): Promise<{ vm: Recorder; vmi: Recorder }> {
  const name = (body.metadata as { name: string }).name;
  const recs = { vm: record(VIRTUAL_MACHINE, ns, name), vmi: record(VIRTUAL_MACHINE_INSTANCE, ns, name) };
  recorders.push(recs.vm, recs.vmi);
  await new Promise((r) => setTimeout(r, 50));
  await kube().create(collectionPath(VIRTUAL_MACHINE, ns), body);
  return recs;
}

const inPool = (ip: string): boolean => /^10\.244\.\d{1,3}\.\d{1,3}$/.test(ip);

test('VM → DataVolume (owned, template metadata) → VMI Pending → Scheduling → Scheduled → Running, Ready, an IP', async () => {
  const started = Date.now();
  const r = await createVm(vm('web'));
  await until('VMI Running', () => phaseOf(r.vmi.latest()) === 'Running');
  await until('VM Running', () => r.vm.latest()?.status?.printableStatus === 'Running' && r.vm.latest()?.status?.ready === true);
  const elapsed = Date.now() - started;

  const theVm = r.vm.latest();
  const dv = await kube().get(objectPath(DATA_VOLUME, ns, 'web-root'));
  assert.equal(dv.metadata.ownerReferences, [
    {
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachine',
      name: 'web',
      uid: theVm.metadata.uid,
      controller: true,
      blockOwnerDeletion: true,
    },
  ]);
  assert.equal(dv.metadata.labels, { tier: 'disk', 'kubevirt.io/created-by': theVm.metadata.uid });
  assert.is(dv.metadata.annotations['note.example/a'], 'b');
  assert.is(dv.status.phase, 'Succeeded');

  const vmi = r.vmi.latest();
  assert.equal(r.vmi.sequence(phaseOf), ['', 'Pending', 'Scheduling', 'Scheduled', 'Running']);
  assert.equal(
    vmi.status.phaseTransitionTimestamps.map((p: any) => p.phase),
    ['Pending', 'Scheduling', 'Scheduled', 'Running'],
  );
  assert.equal(vmi.metadata.ownerReferences[0].uid, theVm.metadata.uid);
  assert.is(vmi.metadata.labels['kubevirt.io/vm'], 'web');
  assert.is(vmi.status.nodeName, 'sim-node-1');
  assert.is(condition(vmi, 'Ready').status, 'True');
  const iface = vmi.status.interfaces[0];
  assert.is(iface.name, 'default');
  assert.ok(inPool(iface.ipAddress), iface.ipAddress);
  assert.equal(iface.ipAddresses, [iface.ipAddress]);
  assert.match(iface.mac, /^02:00(:[0-9a-f]{2}){4}$/);

  // VM status: Provisioning while importing, then Starting, then Running.
  const printable = r.vm.sequence((o) => o.status?.printableStatus).filter(Boolean);
  assert.ok(printable.includes('Provisioning'), String(printable));
  assert.is(printable[printable.length - 1], 'Running');
  assert.ok(printable.indexOf('Provisioning') < printable.indexOf('Running'));
  assert.is(theVm.status.created, true);
  assert.equal([condition(theVm, 'Ready').status, theVm.status.runStrategy], ['True', 'Always']);
  assert.ok(elapsed < 3_000, `VM running after ${elapsed} ms`);
});

test("the project's own VirtualMachine (machine-controller shape, runStrategy Once) runs", async () => {
  const body: any = nominalVm('m1', ns);
  body.spec.dataVolumeTemplates[0].spec.source = { http: { url: server.url('/disk.img') } };
  const r = await createVm(body);
  await until('VMI Running', () => phaseOf(r.vmi.latest()) === 'Running');
  assert.ok(inPool(r.vmi.latest().status.interfaces[0].ipAddress));
});

test('two VMIs get different addresses', async () => {
  const a = await createVm(vm('a'));
  const b = await createVm(vm('b'));
  await until('both Running', () => phaseOf(a.vmi.latest()) === 'Running' && phaseOf(b.vmi.latest()) === 'Running');
  assert.is.not(a.vmi.latest().status.interfaces[0].ipAddress, b.vmi.latest().status.interfaces[0].ipAddress);
});

test('runStrategy Halted: the DataVolume imports, no VMI; Always starts it, Halted stops it again', async () => {
  const r = await createVm(vm('halted', { runStrategy: 'Halted' }));
  await until('DV imported and VM Stopped', () => r.vm.latest()?.status?.printableStatus === 'Stopped');
  await new Promise((res) => setTimeout(res, 200));
  assert.is(r.vmi.seen.length, 0, 'no VMI was ever created');
  assert.is(condition(r.vm.latest(), 'Ready').reason, 'VMINotExists');

  const path = objectPath(VIRTUAL_MACHINE, ns, 'halted');
  await kube().patch(path, 'merge', { spec: { runStrategy: 'Always' } });
  await until('VMI Running', () => phaseOf(r.vmi.latest()) === 'Running');
  await kube().patch(path, 'merge', { spec: { runStrategy: 'Halted' } });
  await until('VMI deleted', () => r.vmi.seen.some((s) => s.type === 'DELETED'));
  await until('VM Stopped', () => r.vm.latest()?.status?.printableStatus === 'Stopped');
});

test('legacy running: true starts a VMI; running: false does not', async () => {
  const on = await createVm(vm('on', { running: true }));
  const off = await createVm(vm('off', { running: false }));
  await until('on Running', () => phaseOf(on.vmi.latest()) === 'Running');
  await until('off Stopped', () => off.vm.latest()?.status?.printableStatus === 'Stopped');
  assert.is(off.vmi.seen.length, 0);
});

test('deleting the VM deletes its VMI and DataVolume', async () => {
  const r = await createVm(vm('gone'));
  await until('VMI Running', () => phaseOf(r.vmi.latest()) === 'Running');
  await kube().delete(objectPath(VIRTUAL_MACHINE, ns, 'gone'));
  await until('VMI deleted', () => r.vmi.seen.some((s) => s.type === 'DELETED'), 20_000);
  await eventually('DataVolume deleted', async () => (await kube().get(objectPath(DATA_VOLUME, ns, 'gone-root'))) === undefined, {
    timeoutMs: 20_000,
  });
});

test('a failing import shows DataVolumeError on the VM and starts no VMI', async () => {
  const r = await createVm(vm('broken', { url: server.url('/no-such.img') }));
  await until('DataVolumeError', () => r.vm.latest()?.status?.printableStatus === 'DataVolumeError');
  assert.is(r.vmi.seen.length, 0);
});

test('an orphan DataVolume with the template name is adopted; one controlled by another owner is left alone', async () => {
  await kube().create(collectionPath(DATA_VOLUME, ns), httpDataVolume('orphan-root', server.url('/disk.img')));
  // A real owner: the garbage collector deletes dependents of an owner that does not exist.
  const cm = await kube().create(collectionPath(CONFIG_MAP, ns), { metadata: { name: 'owner' } });
  const foreign = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: cm.metadata.uid, controller: true };
  await kube().create(collectionPath(DATA_VOLUME, ns), {
    ...httpDataVolume('taken-root', server.url('/disk.img')),
    metadata: { name: 'taken-root', ownerReferences: [foreign] },
  });
  const orphan = await createVm(vm('orphan'));
  const taken = await createVm(vm('taken'));
  await until('both VMIs Running', () => phaseOf(orphan.vmi.latest()) === 'Running' && phaseOf(taken.vmi.latest()) === 'Running');
  const adopted = await kube().get(objectPath(DATA_VOLUME, ns, 'orphan-root'));
  assert.equal(
    adopted.metadata.ownerReferences.map((o: any) => [o.kind, o.name, o.controller]),
    [['VirtualMachine', 'orphan', true]],
  );
  const left = await kube().get(objectPath(DATA_VOLUME, ns, 'taken-root'));
  assert.equal(left.metadata.ownerReferences, [foreign]);
  assert.is(sim!.stats().dataVolumesAdopted, 1);
});

test(`VMI failure hook (${VMI_FAIL_ANNOTATION}): Scheduled → Failed; runStrategy Once leaves it, VM Stopped`, async () => {
  const r = await createVm(vm('crash', { runStrategy: 'Once', annotations: { [VMI_FAIL_ANNOTATION]: 'GuestCrashed' } }));
  await until('VMI Failed', () => phaseOf(r.vmi.latest()) === 'Failed');
  assert.is(r.vmi.latest().status.reason, 'GuestCrashed');
  assert.is(condition(r.vmi.latest(), 'Ready').status, 'False');
  await until('VM Stopped', () => r.vm.latest()?.status?.printableStatus === 'Stopped');
});

test.run();
