/**
 * A Resource-mode event for an object that no longer exists is acknowledged (200) and nothing
 * is done, whatever its stale payload says: each function re-reads the object first (issue 15).
 * The datavolume, vmi, machineset and machinedeployment functions under their ServiceAccounts
 * (the machine function's case: test/integration/machine/events.test.ts). Every payload here
 * would make its function write something if it were trusted: an imported DataVolume and a
 * ready VMI of an existing Machine, a MachineSet and a MachineDeployment wanting replicas.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startStack, exampleManifest, INFRA_NAMESPACE, type Stack } from '../../../dev/stack/index.js';
import { startSink, type TestSink } from '../support/sink.js';
import { adminKube } from '../support/admin.js';
import { freshNamespace, uniqueName } from '../support/kube.js';
import { post } from '../support/apiserver-events.js';
import {
  LABEL_MACHINE_NAME,
  LABEL_MACHINE_NAMESPACE,
  LABEL_MACHINE_UID,
  LABEL_MANAGED_BY,
  MANAGED_BY_VALUE,
} from '../../../shared/constants.js';
import { MACHINES, createMachine, exampleMachineSpec } from './stack-support.js';

const test = suite('e2e: events for objects that no longer exist');
let stack: Stack;
let sink: TestSink;

test.before(async () => {
  sink = await startSink();
  stack = await startStack({
    kubeconfig: readFileSync(process.env.KUBECONFIG!, 'utf8'),
    functions: ['datavolume', 'vmi', 'machineset', 'machinedeployment'],
    simulate: false,
    backoffScale: 0.05,
    pingIntervalMs: 3_600_000,
    sinkUrl: sink.url,
  });
});
test.after(async () => {
  await stack?.stop();
  await sink?.close();
});

type Op = 'add' | 'update' | 'delete';

/** A binary Resource-mode event for `obj`, as the ApiServerSource adapter sends it. */
function resourceEventFor(op: Op, obj: { apiVersion: string; kind: string; metadata: { name: string; namespace: string } }) {
  return {
    headers: {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': randomUUID(),
      'ce-source': 'https://10.96.0.1:443',
      'ce-type': `dev.knative.apiserver.resource.${op}`,
      'ce-subject': `${obj.metadata.namespace}/${obj.metadata.name}`,
      'ce-kind': obj.kind,
      'ce-name': obj.metadata.name,
      'ce-namespace': obj.metadata.namespace,
    },
    body: JSON.stringify(obj),
  };
}

/** Everything in `ns` the functions could have written, and the follow-ups sent. */
async function state(ns: string): Promise<Record<string, string[]>> {
  const kube = adminKube();
  const names = async (path: string) =>
    (await kube.request<{ items: { metadata: { name: string; resourceVersion: string } }[] }>('GET', path)).items.map(
      (o) => `${o.metadata.name}@${o.metadata.resourceVersion}`,
    );
  return {
    machines: await names(`${MACHINES}/namespaces/${ns}/machines`),
    machineSets: await names(`${MACHINES}/namespaces/${ns}/machinesets`),
    machineDeployments: await names(`${MACHINES}/namespaces/${ns}/machinedeployments`),
    events: await names(`/api/v1/namespaces/${ns}/events`),
    followUps: sink.events.filter((e) => String(e.subject).startsWith(`${ns}/`)).map((e) => e.type),
  };
}

test('datavolume, vmi, machineset, machinedeployment: an event for an object that is gone → 200, nothing written', async () => {
  const ns = await freshNamespace('gone');
  const spec = exampleMachineSpec(stack.imageUrl);
  // A live Machine the gone DataVolume and VMI claim to belong to.
  const m = await createMachine(adminKube(), ns, uniqueName('owner'), spec);
  const ownedBy = {
    [LABEL_MANAGED_BY]: MANAGED_BY_VALUE,
    [LABEL_MACHINE_NAME]: m.metadata.name,
    [LABEL_MACHINE_NAMESPACE]: ns,
    [LABEL_MACHINE_UID]: m.metadata.uid,
  };
  const meta = (name: string, namespace: string, labels?: Record<string, string>) => ({
    name,
    namespace,
    uid: randomUUID(),
    resourceVersion: '1',
    creationTimestamp: new Date().toISOString(),
    ...(labels ? { labels } : {}),
  });
  const template = parseYaml(exampleManifest(stack.imageUrl)).spec.template;
  const ghosts: [string, { apiVersion: string; kind: string; metadata: any; [k: string]: unknown }][] = [
    [
      'datavolume',
      {
        apiVersion: 'cdi.kubevirt.io/v1beta1',
        kind: 'DataVolume',
        metadata: meta(uniqueName('gone-dv'), INFRA_NAMESPACE, ownedBy),
        spec: { source: { http: { url: stack.imageUrl } } },
        status: { phase: 'Succeeded', progress: '100.0%' },
      },
    ],
    [
      'vmi',
      {
        apiVersion: 'kubevirt.io/v1',
        kind: 'VirtualMachineInstance',
        metadata: meta(uniqueName('gone-vmi'), INFRA_NAMESPACE, ownedBy),
        status: {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'True' }],
          interfaces: [{ name: 'default', ipAddress: '10.0.0.7', ipAddresses: ['10.0.0.7'] }],
        },
      },
    ],
    [
      'machineset',
      {
        apiVersion: 'cluster.k8s.io/v1alpha1',
        kind: 'MachineSet',
        metadata: meta(uniqueName('gone-ms'), ns),
        spec: { replicas: 3, selector: { matchLabels: { set: 'gone' } }, template: { ...template, metadata: { labels: { set: 'gone' } } } },
      },
    ],
    [
      'machineset',
      {
        apiVersion: 'cluster.k8s.io/v1alpha1',
        kind: 'Machine',
        metadata: {
          ...meta(uniqueName('gone-machine'), ns),
          ownerReferences: [
            { apiVersion: 'cluster.k8s.io/v1alpha1', kind: 'MachineSet', name: 'gone-ms-owner', uid: randomUUID(), controller: true },
          ],
        },
        spec,
      },
    ],
    [
      'machinedeployment',
      {
        apiVersion: 'cluster.k8s.io/v1alpha1',
        kind: 'MachineDeployment',
        metadata: meta(uniqueName('gone-md'), ns),
        spec: { replicas: 3, selector: { matchLabels: { md: 'gone' } }, template: { ...template, metadata: { labels: { md: 'gone' } } } },
      },
    ],
    [
      'machinedeployment',
      {
        apiVersion: 'cluster.k8s.io/v1alpha1',
        kind: 'MachineSet',
        metadata: {
          ...meta(uniqueName('gone-ms'), ns),
          ownerReferences: [
            {
              apiVersion: 'cluster.k8s.io/v1alpha1',
              kind: 'MachineDeployment',
              name: 'gone-md-owner',
              uid: randomUUID(),
              controller: true,
            },
          ],
        },
        spec: {
          replicas: 2,
          selector: { matchLabels: { set: 'gone2' } },
          template: { ...template, metadata: { labels: { set: 'gone2' } } },
        },
      },
    ],
  ];
  // Let the bridge's own deliveries for the owner Machine settle before the baseline.
  await new Promise((r) => setTimeout(r, 1000));
  const before = await state(ns);
  const results: string[] = [];
  for (const [fn, obj] of ghosts) {
    for (const op of ['add', 'update', 'delete'] as const) {
      const status = await post(stack.functions[fn].url, resourceEventFor(op, obj));
      results.push(`${fn} ${obj.kind} ${op}: ${status}`);
    }
  }
  console.log(`    [gone objects] ${results.join('; ')}`);
  assert.equal(
    results.filter((r) => !r.endsWith(': 200')),
    [],
    'every event acknowledged',
  );
  await new Promise((r) => setTimeout(r, 500)); // Events are recorded asynchronously
  assert.equal(await state(ns), before, 'nothing written: Machines, MachineSets, MachineDeployments, Events, follow-ups');
});

test.run();
