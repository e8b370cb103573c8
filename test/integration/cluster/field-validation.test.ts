/**
 * KubeClient's writes fail loudly: create (POST) and apply (server-side apply PATCH) send
 * `fieldValidation=Strict`, so a field the schema does not know is refused with a 400 naming
 * it, where the API server's default (Warn) would prune it silently and leave an object that
 * never becomes what we asked for.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { collectionPath, DATA_VOLUME, objectPath, VIRTUAL_MACHINE } from '../../../shared/kube/paths.js';
import { isTransient } from '../../../shared/kube/rest.js';
import { adminKube, freshNamespace, statusCode, statusMessage } from '../support/kube.js';
import { dataVolume, nominalVm } from '../support/objects.js';

const kube = () => adminKube();

/** Runs `write`, which must be refused with a 400 whose message names `field`. */
async function refused(write: () => Promise<unknown>, field: string): Promise<void> {
  try {
    await write();
    assert.unreachable(`the API server accepted the unknown field ${field}`);
  } catch (e) {
    assert.is(statusCode(e), 400, statusMessage(e));
    assert.match(statusMessage(e), field);
  }
}

test("create: a DataVolume with a field CDI's schema does not know is refused with 400 naming it", async () => {
  const ns = await freshNamespace('strict-create');
  const dv = dataVolume('dv', ns) as { spec: Record<string, unknown> };
  dv.spec.notACdiField = true;
  await refused(() => kube().create(collectionPath(DATA_VOLUME, ns), dv), 'unknown field "spec.notACdiField"');
  assert.is(await kube().get(objectPath(DATA_VOLUME, ns, 'dv')), undefined, 'nothing created');
});

test('create: a VirtualMachine with an unknown field deep in its template is refused with 400 naming it', async () => {
  const ns = await freshNamespace('strict-create-vm');
  const vm = nominalVm('vm', ns);
  (vm.spec.template.spec.domain as Record<string, unknown>).notAKubevirtField = true;
  await refused(() => kube().create(collectionPath(VIRTUAL_MACHINE, ns), vm), 'spec.template.spec.domain.notAKubevirtField');
});

test('apply: the same DataVolume through server-side apply is refused with 400 naming the field', async () => {
  const ns = await freshNamespace('strict-apply');
  const path = objectPath(DATA_VOLUME, ns, 'dv');
  const dv = dataVolume('dv', ns) as { spec: Record<string, unknown> };
  dv.spec.notACdiField = true;
  await refused(() => kube().apply(path, dv), '.spec.notACdiField: field not declared in schema');
  assert.not.ok(
    isTransient(
      await kube()
        .apply(path, dv)
        .catch((e: unknown) => e),
    ),
    'not retried as a server failure',
  );
  assert.is(await kube().get(path), undefined, 'nothing created');
  // What the wire says: kube-apiserver ≤ 1.36 answers this apply with 500
  // (kubernetes/kubernetes#139253); KubeClient reports it as the 400 it is.
  const raw = await kube().send('PATCH', path, {
    body: dv,
    contentType: 'application/apply-patch+yaml',
    query: { fieldManager: 'kmf-tests', fieldValidation: 'Strict' },
  });
  assert.ok(raw.status === 500 || raw.status === 400, `${raw.status} ${raw.text}`);
  assert.match(raw.text, 'notACdiField');
});

test('apply: a VirtualMachine re-applied with an unknown field is refused with 400 naming it, and left as it was', async () => {
  const ns = await freshNamespace('strict-apply-vm');
  const path = objectPath(VIRTUAL_MACHINE, ns, 'vm');
  const vm = nominalVm('vm', ns);
  const created = await kube().create(collectionPath(VIRTUAL_MACHINE, ns), vm);
  (vm.spec.template.spec.domain as Record<string, unknown>).notAKubevirtField = true;
  await refused(() => kube().apply(path, vm), '.spec.template.spec.domain.notAKubevirtField: field not declared in schema');
  const after = await kube().get(path);
  assert.is(after.metadata.resourceVersion, created.metadata.resourceVersion, 'not written');
});

test.run();
