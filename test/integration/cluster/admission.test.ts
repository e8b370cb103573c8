/**
 * KubeVirt's and CDI's own admission (kubevirt-admission, registered by the control plane) on the
 * test control plane: what virt-api and cdi-apiserver refuse is refused here at create, with
 * their messages, and what they accept passes, machine-controller's 15 provider-test cases as
 * our builder makes them included.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { collectionPath, DATA_VOLUME, objectPath, VIRTUAL_MACHINE, VIRTUAL_MACHINE_INSTANCE } from '../../../shared/kube/paths.js';
import type { VirtualMachine } from '../../../shared/vm/types.js';
import { buildCase, CASES } from '../../unit/vm/mc-cases.js';
import { adminKube, freshNamespace, statusCode, statusMessage } from '../support/kube.js';
import { dataVolume, nominalVm } from '../support/objects.js';

const kube = () => adminKube();
const VM_WEBHOOK = 'admission webhook "virtualmachine-validator.kubevirt.io" denied the request';
const VMI_WEBHOOK = 'admission webhook "virtualmachineinstances-create-validator.kubevirt.io" denied the request';
const DV_WEBHOOK = 'admission webhook "datavolume-validate.cdi.kubevirt.io" denied the request';

/** Creates `body` and expects the API server to refuse it, naming `webhook` and saying `message`. */
async function refused(path: string, body: unknown, webhook: string, message: string): Promise<void> {
  try {
    await kube().create(path, body);
  } catch (e) {
    assert.ok(statusCode(e) !== undefined && statusCode(e)! >= 400 && statusCode(e)! < 500, statusMessage(e));
    assert.match(statusMessage(e), webhook);
    assert.match(statusMessage(e), message);
    return;
  }
  assert.unreachable(`the API server accepted it (expected: ${message})`);
}

test('a VM whose disk names a missing volume is refused with KubeVirt`s message', async () => {
  const namespace = await freshNamespace('adm-vm-disk');
  const vm = nominalVm('missing-volume', namespace);
  vm.spec.template.spec.domain.devices.disks.push({ name: 'missingvolume', disk: { bus: 'virtio' } });
  await refused(collectionPath(VIRTUAL_MACHINE, namespace), vm, VM_WEBHOOK, "Name 'missingvolume' not found.");
});

test('a VM with a DataVolumeTemplate no volume uses is refused with KubeVirt`s message', async () => {
  const namespace = await freshNamespace('adm-vm-dvt');
  const vm = nominalVm('unused-template', namespace);
  const extra = structuredClone(vm.spec.dataVolumeTemplates[0]!);
  extra.metadata.name = 'unused-template-extra';
  vm.spec.dataVolumeTemplates.push(extra);
  await refused(
    collectionPath(VIRTUAL_MACHINE, namespace),
    vm,
    VM_WEBHOOK,
    "DataVolumeTemplate entry spec.dataVolumeTemplate[1] must be referenced in the VMI template's 'volumes' list",
  );
});

test('a VM without a run strategy is refused (KubeVirt, not the CRD schema)', async () => {
  const namespace = await freshNamespace('adm-vm-run');
  const vm = nominalVm('no-run-strategy', namespace) as unknown as { spec: Record<string, unknown> };
  delete vm.spec.runStrategy;
  await refused(collectionPath(VIRTUAL_MACHINE, namespace), vm, VM_WEBHOOK, 'RunStrategy must be specified');
});

test('a VMI whose disk names a missing volume is refused by KubeVirt`s VMI create admitter', async () => {
  const namespace = await freshNamespace('adm-vmi');
  const vmi = {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name: 'missing-volume', namespace },
    spec: {
      domain: { devices: { disks: [{ name: 'missingvolume', disk: { bus: 'virtio' } }] }, resources: { requests: { memory: '64Mi' } } },
    },
  };
  await refused(collectionPath(VIRTUAL_MACHINE_INSTANCE, namespace), vmi, VMI_WEBHOOK, "Name 'missingvolume' not found.");
});

test('a DataVolume with neither source nor sourceRef is refused with CDI`s message', async () => {
  const namespace = await freshNamespace('adm-dv-none');
  const dv = dataVolume('no-source', namespace) as { spec: Record<string, unknown> };
  delete dv.spec.source;
  await refused(
    collectionPath(DATA_VOLUME, namespace),
    dv,
    DV_WEBHOOK,
    'Data volume should have either Source or SourceRef, or be externally populated',
  );
});

test('a DataVolume with two sources is refused with CDI`s message', async () => {
  const namespace = await freshNamespace('adm-dv-two');
  const dv = dataVolume('two-sources', namespace) as { spec: { source: Record<string, unknown> } };
  dv.spec.source.blank = {};
  await refused(collectionPath(DATA_VOLUME, namespace), dv, DV_WEBHOOK, 'Multiple Data volume sources');
});

test('a DataVolume without a size is refused with CDI`s message', async () => {
  const namespace = await freshNamespace('adm-dv-size');
  const dv = dataVolume('no-size', namespace) as { spec: { storage: Record<string, unknown> } };
  delete dv.spec.storage.resources;
  await refused(collectionPath(DATA_VOLUME, namespace), dv, DV_WEBHOOK, 'Storage size is missing');
});

test('a DataVolume named like an existing PVC of someone else is refused (CDI looks the PVC up on the control plane)', async () => {
  const namespace = await freshNamespace('adm-dv-pvc');
  await kube().create(`/api/v1/namespaces/${namespace}/persistentvolumeclaims`, {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'taken', namespace },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  });
  // CDIConfig `config` (created with the webhook, as cdi-operator does) has no ClaimAdoption gate.
  await refused(
    collectionPath(DATA_VOLUME, namespace),
    dataVolume('taken', namespace),
    DV_WEBHOOK,
    `Destination PVC ${namespace}/taken already exists`,
  );
  // The DataVolume's own annotation allows the adoption.
  const adopting = dataVolume('taken', namespace) as { metadata: Record<string, unknown> };
  adopting.metadata.annotations = { 'cdi.kubevirt.io/allowClaimAdoption': 'true' };
  await kube().create(collectionPath(DATA_VOLUME, namespace), adopting);
});

test('a valid DataVolume is admitted; changing its spec afterwards is refused (CDI: spec is immutable)', async () => {
  const namespace = await freshNamespace('adm-dv-ok');
  const created = await kube().create(collectionPath(DATA_VOLUME, namespace), dataVolume('valid', namespace));
  assert.is(created.spec.source.http.url, 'http://x.y.z.t/ubuntu.img');
  try {
    await kube().patch(objectPath(DATA_VOLUME, namespace, 'valid'), 'merge', {
      spec: { source: { http: { url: 'http://x.y.z.t/other.img' } } },
    });
    assert.unreachable('the spec change was accepted');
  } catch (e) {
    assert.match(statusMessage(e), DV_WEBHOOK);
    assert.match(statusMessage(e), 'Cannot update DataVolume Spec');
  }
});

test('a valid VM is admitted and defaulted by KubeVirt`s mutator; an UPDATE breaking it is refused', async () => {
  const namespace = await freshNamespace('adm-vm-ok');
  const vm = nominalVm('valid', namespace);
  const created = await kube().create<VirtualMachine>(collectionPath(VIRTUAL_MACHINE, namespace), vm);
  const domain = created.spec.template.spec.domain as unknown as {
    firmware?: { uuid?: string; serial?: string };
    machine?: { type?: string };
  };
  assert.type(domain.firmware?.uuid, 'string');
  assert.type(domain.firmware?.serial, 'string');
  assert.type(domain.machine?.type, 'string');
  assert.type((created.spec.template.spec as unknown as { architecture?: string }).architecture, 'string');

  const disks = [...created.spec.template.spec.domain.devices.disks, { name: 'missingvolume', disk: { bus: 'virtio' } }];
  try {
    await kube().patch(objectPath(VIRTUAL_MACHINE, namespace, 'valid'), 'merge', {
      spec: { template: { spec: { domain: { devices: { disks } } } } },
    });
    assert.unreachable('the update was accepted');
  } catch (e) {
    assert.match(statusMessage(e), VM_WEBHOOK);
    assert.match(statusMessage(e), "Name 'missingvolume' not found.");
  }
});

test('all 15 machine-controller provider-test cases, as our builder makes them, are admitted', async () => {
  const namespace = await freshNamespace('adm-mc-cases');
  const names = Object.keys(CASES);
  assert.is(names.length, 15);
  const failures: string[] = [];
  for (const name of names) {
    const vm = await buildCase(name, namespace);
    try {
      const created = await kube().create<VirtualMachine>(collectionPath(VIRTUAL_MACHINE, namespace), vm);
      assert.is(created.metadata.name, name);
    } catch (e) {
      failures.push(`${name}: ${statusMessage(e)}`);
    }
  }
  assert.equal(failures, [], failures.join('\n'));
});

test.run();
