/**
 * The KubeVirt CRD schema, served by a real kube-apiserver, accepts the VirtualMachine our
 * builder makes, and strict field validation catches a misspelt or invented field that a
 * default (Warn) request would silently prune.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { collectionPath, VIRTUAL_MACHINE } from '../../../shared/kube/paths.js';
import { adminKube, freshNamespace, statusCode, statusMessage } from '../support/kube.js';
import { nominalVm } from '../support/objects.js';

const kube = () => adminKube();
/** KubeClient.create: fieldValidation=Strict. */
const createStrict = (namespace: string, body: unknown) => kube().create(collectionPath(VIRTUAL_MACHINE, namespace), body);

test('a VirtualMachine from the builder is accepted by the KubeVirt CRD schema, unpruned', async () => {
  const namespace = await freshNamespace('vm-schema');
  const vm = nominalVm('nominal-case', namespace);
  const created = await createStrict(namespace, vm);
  // Nothing pruned: what we send is what the API keeps, plus the defaults KubeVirt's mutating
  // webhook adds (firmware UUID and serial, architecture, machine type) and nothing else.
  const { architecture, domain: createdDomain, ...createdSpec } = created.spec.template.spec;
  const { firmware, machine, ...domain } = createdDomain;
  assert.equal({ ...createdSpec, domain }, vm.spec.template.spec);
  assert.ok(architecture && machine.type && firmware.uuid && firmware.serial, JSON.stringify({ architecture, machine, firmware }));
  assert.equal(created.spec.dataVolumeTemplates, vm.spec.dataVolumeTemplates);
  assert.is(created.spec.runStrategy, 'Once');
});

test('the same VM with an unknown field under spec.template.spec.domain is rejected under Strict', async () => {
  const namespace = await freshNamespace('vm-strict');
  const vm = nominalVm('nominal-case', namespace);
  (vm.spec.template.spec.domain as Record<string, unknown>).notAKubevirtField = true;
  try {
    await createStrict(namespace, vm);
    assert.unreachable('the API server accepted an unknown field');
  } catch (e) {
    assert.is(statusCode(e), 400, statusMessage(e));
    assert.match(statusMessage(e), 'unknown field "spec.template.spec.domain.notAKubevirtField"');
  }
});

test('without Strict the unknown field is pruned silently (why KubeClient always sends Strict)', async () => {
  const namespace = await freshNamespace('vm-prune');
  const vm = nominalVm('nominal-case', namespace);
  (vm.spec.template.spec.domain as Record<string, unknown>).notAKubevirtField = true;
  const created = await kube().request('POST', collectionPath(VIRTUAL_MACHINE, namespace), { body: vm });
  assert.not.ok('notAKubevirtField' in created.spec.template.spec.domain);
});

test("a lowercase key from machine-controller's fixtures (topologyspreadconstraints) is not in the schema", async () => {
  const namespace = await freshNamespace('vm-lower');
  const vm = nominalVm('nominal-case', namespace) as unknown as { spec: { template: { spec: Record<string, unknown> } } };
  const spec = vm.spec.template.spec;
  spec.topologyspreadconstraints = spec.topologySpreadConstraints;
  delete spec.topologySpreadConstraints;
  try {
    await createStrict(namespace, vm);
    assert.unreachable('accepted topologyspreadconstraints');
  } catch (e) {
    assert.is(statusCode(e), 400, statusMessage(e));
    assert.match(statusMessage(e), 'topologyspreadconstraints');
  }
});

test.run();
