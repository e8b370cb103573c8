/**
 * Issue 5 end to end, on the real control plane with the simulator, every function server under
 * its knative/ ServiceAccount and the event bridge routing DataVolume/VMI events as the Triggers
 * do: machine.provisioning → machine.image.imported → machine.ready in that order; an import
 * that fails after the preflight (the image is withdrawn) → machine.image.failed with CDI's
 * importer's message on the Machine; a qcow2 image lands converted in the DataVolume's volume;
 * duplicated and reordered DV/VMI events emit nothing twice.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { startStack, exampleManifest, INFRA_NAMESPACE, type Stack } from '../../../dev/stack/index.js';
import { startSink, type TestSink } from '../support/sink.js';
import { freshNamespace, uniqueName } from '../support/kube.js';
import { apiServerEvent, post } from '../support/apiserver-events.js';
import { FollowUpType } from '../../../events/followup.js';
import { needing } from '../../support/system-tools.js';
import { ImageDir } from '../../unit/image/image-files.js';

const test = suite('end to end: import and readiness');
let stack: Stack;
let sink: TestSink;
let ns: string;

test.before(async () => {
  sink = await startSink();
  stack = await startStack({
    kubeconfig: readFileSync(process.env.KUBECONFIG!, 'utf8'),
    simulatorTimings: { dvStepMs: 20, importChunkMs: 60, vmiStepMs: 20, restartBackoffMs: 40, restartBackoffMaxMs: 200 },
    backoffScale: 0.05,
    pingIntervalMs: 3_600_000,
    sinkUrl: sink.url,
    // IMAGE_CACHE=off: each Machine's own DataVolume runs CDI's importer, whose output (the qcow2
    // converted, the import failure's message) these tests read; e2e/golden-images.test.ts
    // covers the same paths through a golden.
    env: { DV_MAX_RESTARTS: '2', IMAGE_CACHE: 'off' },
    functions: ['machine', 'datavolume', 'vmi'],
  });
  ns = await freshNamespace('e2e');
});
test.after(async () => {
  await stack?.stop();
  await sink?.close();
});

function providerSpec(imageUrl: string): unknown {
  const md = parseAllDocuments(exampleManifest(imageUrl))[0].toJS();
  return md.spec.template.spec.providerSpec.value;
}

async function createMachine(name: string, imageUrl = stack.imageUrl): Promise<any> {
  return stack.admin.create(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machines`, {
    apiVersion: 'cluster.k8s.io/v1alpha1',
    kind: 'Machine',
    metadata: { name, namespace: ns },
    spec: { providerSpec: { value: providerSpec(imageUrl) }, versions: { kubelet: '1.33.4' } },
  });
}
const machinePath = (name: string) => `/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machines/${name}`;
const forMachine = (name: string) => sink.events.filter((e) => e.subject === `${ns}/${name}`);

test('Machine add → provisioning → image.imported → ready, in that order; addresses and providerID on the Machine', async () => {
  const name = uniqueName('e2e');
  await createMachine(name);
  await sink.waitFor((e) => e.type === FollowUpType.ready && e.subject === `${ns}/${name}`, 30_000);
  const types = forMachine(name).map((e) => e.type);
  assert.equal(types, [FollowUpType.provisioning, FollowUpType.imageImported, FollowUpType.ready]);
  const m = await stack.admin.get(machinePath(name));
  assert.is(m.spec.providerID, `kubevirt://${name}`);
  assert.is(m.status.addresses[0].type, 'InternalIP');
  assert.match(m.status.addresses[0].address, /^10\.244\.\d+\.\d+$/);
  assert.is(m.status.providerStatus.phase, 'Ready');
  const ready = forMachine(name).find((e) => e.type === FollowUpType.ready)!;
  assert.equal((ready.data as any).addresses, m.status.addresses);
  const imported = forMachine(name).find((e) => e.type === FollowUpType.imageImported)!;
  assert.ok((imported.data as any).durationSeconds >= 0);
});

test("an image that passes the preflight and then fails to import → machine.image.failed with CDI's message on the Machine", async () => {
  const name = uniqueName('e2e-fail');
  // A file of its own, withdrawn as soon as the machine function has created the VM (after
  // its preflight read the file): CDI's importer then gets a 404.
  const file = `${name}.img`;
  stack.images.files.set(file, stack.images.files.get('ubuntu-22.04.img')!);
  await createMachine(name, stack.images.url(file));
  await sink.waitFor((e) => e.type === FollowUpType.provisioning && e.subject === `${ns}/${name}`, 15_000);
  stack.images.withdraw(file);
  const failed = await sink
    .waitFor((e) => e.type === FollowUpType.imageFailed && e.subject === `${ns}/${name}`, 30_000)
    .catch(async (e) => {
      // The import may have finished before the withdrawal on a fast machine: say so clearly.
      const dv = await stack.admin.get(`/apis/cdi.kubevirt.io/v1beta1/namespaces/${INFRA_NAMESPACE}/datavolumes/${name}`);
      throw new Error(`${(e as Error).message}; DataVolume status: ${JSON.stringify(dv?.status)}`);
    });
  const data = failed.data as any;
  assert.is(data.reason, 'Error');
  assert.is(data.message, 'Unable to connect to http data source: expected status code 200, got 404. Status: 404 Not Found');
  assert.ok(data.restartCount >= 2);
  const m = await stack.admin.get(machinePath(name));
  assert.is(m.status.errorReason, 'CreateError');
  assert.match(m.status.errorMessage, /expected status code 200, got 404/);
  assert.not.ok(forMachine(name).some((e) => e.type === FollowUpType.ready));
});

needing(test, ['qemu-img'])(
  "a qcow2 image: CDI's importer writes the source disk, grown to the Machine's 10Gi, under the stack's temporary directory",
  async () => {
    const name = uniqueName('e2e-qcow2');
    const files = new ImageDir();
    try {
      const raw = files.raw('src.raw', 1024 * 1024);
      files.run('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, 'src.qcow2']);
      stack.images.files.set(`${name}.qcow2`, files.readAll('src.qcow2'));
      await createMachine(name, stack.images.url(`${name}.qcow2`));
      await sink.waitFor((e) => e.type === FollowUpType.ready && e.subject === `${ns}/${name}`, 30_000);
      const disk = stack.simulator!.diskOf(INFRA_NAMESPACE, name)!;
      assert.ok(disk.startsWith(path.join(tmpdir(), 'kmf-stack-')), disk);
      assert.is(statSync(disk).size, 10 * 1024 ** 3, 'grown to the storage request');
      const head = Buffer.alloc(1024 * 1024);
      const fd = openSync(disk, 'r');
      try {
        readSync(fd, head, 0, head.length, 0);
      } finally {
        closeSync(fd);
      }
      assert.ok(head.equals(files.readAll(raw)), 'the source disk, converted from qcow2');
    } finally {
      files.remove();
    }
  },
);

test('duplicated and reordered DataVolume and VMI events emit no follow-up twice', async () => {
  const name = uniqueName('e2e-dup');
  await createMachine(name);
  await sink.waitFor((e) => e.type === FollowUpType.ready && e.subject === `${ns}/${name}`, 30_000);
  const ref = (kind: string, apiVersion: string, plural: string) => ({
    mode: 'Reference' as const,
    structured: false,
    headers: { 'Content-Type': 'application/json', 'Ce-Specversion': '1.0', 'Ce-Source': 'https://10.96.0.1:443' },
    kind,
    apiVersion,
    plural,
  });
  const vmi = { apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachineInstance', metadata: { name, namespace: INFRA_NAMESPACE } };
  const dv = { apiVersion: 'cdi.kubevirt.io/v1beta1', kind: 'DataVolume', metadata: { name, namespace: INFRA_NAMESPACE } };
  // VMI first (reordered), then DV, each three times, in both Resource and Reference mode.
  for (let i = 0; i < 3; i++) {
    for (const [obj, url] of [
      [vmi, stack.functions.vmi.url],
      [dv, stack.functions.datavolume.url],
    ] as const) {
      for (const mode of ['Resource', 'Reference'] as const) {
        const live = await stack.admin.get(
          `/apis/${obj.apiVersion}/namespaces/${INFRA_NAMESPACE}/${obj.kind === 'DataVolume' ? 'datavolumes' : 'virtualmachineinstances'}/${name}`,
        );
        const ev = machineEventFor(mode, live);
        assert.is(await post(url, ev), 200);
      }
    }
  }
  await stack.bridge?.idle();
  const counts = new Map<string, number>();
  for (const e of forMachine(name)) counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
  assert.equal(Object.fromEntries(counts), { [FollowUpType.provisioning]: 1, [FollowUpType.imageImported]: 1, [FollowUpType.ready]: 1 });
  void ref;
});

/** The adapter's event for a DataVolume or VMI (through the Broker). */
function machineEventFor(mode: 'Resource' | 'Reference', obj: any): { headers: Record<string, string>; body: string } {
  return apiServerEvent({ mode, operation: 'update', structured: false, delivery: 'via-broker' }, obj);
}

test.run();
