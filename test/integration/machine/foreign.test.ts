/**
 * Machines that are not ours are acknowledged and never written (issue 16, item 1): another
 * provider's (aws, hetzner), and a kubevirt one that machine-controller's worker label gives to
 * another controller. Their resourceVersion stays what it was, whatever the event.
 */
import * as assert from 'uvu/assert';
import { adminKube } from '../support/admin.js';
import { uniqueName } from '../support/kube.js';
import { exampleProviderSpec, machineObject, machineSuite } from '../support/machine-env.js';
import { post, resourceEvent } from '../support/apiserver-events.js';

const { test, ctx } = machineSuite('machine function: other controllers` Machines');

const MACHINES = () => `/apis/cluster.k8s.io/v1alpha1/namespaces/${ctx.ns}/machines`;

test('aws, hetzner and another worker`s kubevirt Machines: 200, and not a single write', async () => {
  const kubevirt = exampleProviderSpec('kubevirt-machinedeployment.yaml', {
    kubeconfigB64: ctx.env.infraKubeconfigB64,
    kubeconfigRaw: ctx.env.saKubeconfig,
    imageUrl: ctx.env.imageUrl,
  }).value;
  const cases: [string, unknown, Record<string, string>][] = [
    [
      'aws',
      { cloudProvider: 'aws', cloudProviderSpec: { region: 'eu-central-1', instanceType: 't3.medium' }, operatingSystem: 'ubuntu' },
      {},
    ],
    [
      'hetzner',
      { cloudProvider: 'hetzner', cloudProviderSpec: { serverType: 'cx21' }, operatingSystem: 'ubuntu', operatingSystemSpec: {} },
      {},
    ],
    ['other-worker', kubevirt, { 'machine.k8s.io/controller': 'someone-else' }],
  ];
  for (const [what, value, labels] of cases) {
    const name = uniqueName(what);
    const m = await adminKube().create(MACHINES(), machineObject(name, ctx.ns, value, labels));
    for (const op of ['add', 'update'] as const) assert.is(await post(ctx.env.fn.url, resourceEvent(op, m)), 200, `${what} ${op}`);
    const after = await adminKube().get(`${MACHINES()}/${name}`);
    assert.is(after.metadata.resourceVersion, m.metadata.resourceVersion, `${what}: never written`);
    assert.not.ok(after.status, `${what}: no status`);
    const events = await adminKube().request('GET', `/api/v1/namespaces/${ctx.ns}/events`, {
      query: { fieldSelector: `involvedObject.name=${name}` },
    });
    assert.is(events.items.length, 0, `${what}: no Event`);
    assert.not.ok(
      await adminKube().get(`/apis/kubevirt.io/v1/namespaces/${ctx.env.infraNamespace}/virtualmachines/${name}`),
      `${what}: no VM`,
    );
  }
});

test.run();
