/**
 * ApiServerSource events from Knative's receive adapter on the real control plane, routed by
 * test-local Triggers to recording subscribers: the fixture's header set and values, Resource
 * and Reference bodies, label selectors, namespaces (own, all, selected by labels), spec.owner,
 * ceOverrides, Trigger filters, and no events for objects that existed before the adapter.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startBridge, type Bridge } from '../../../dev/bridge/index.js';
import { adminKube } from '../support/admin.js';
import { BROKER_DELIVERY_HEADERS, referenceBody } from '../support/apiserver-events.js';
import { freshNamespace, uniqueName } from '../support/kube.js';
import { machine } from '../support/objects.js';
import {
  adminKubeconfigText,
  apiServerSource,
  apiServerUrl,
  broker,
  serviceRef,
  sleep,
  startRecorder,
  trigger,
  yamlDocs,
  type Recorder,
} from './support.js';

const test = suite('bridge: ApiServerSource events');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
const cleanups: (() => Promise<unknown>)[] = [];
test.after.each(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function recorder(): Promise<Recorder> {
  const r = await startRecorder();
  cleanups.push(() => r.close());
  return r;
}
async function bridge(manifests: string, subscribers: Record<string, string>): Promise<{ b: Bridge; log: string[] }> {
  const log: string[] = [];
  const b = await startBridge({ kubeconfig: adminKubeconfigText(), manifests: [manifests], subscribers, log: (l) => log.push(l) });
  cleanups.push(() => b.stop());
  return { b, log };
}
const configMap = (ns: string, name: string, labels: Record<string, string> = {}, data: Record<string, string> = { a: '1' }) =>
  adminKube().create(`/api/v1/namespaces/${ns}/configmaps`, { metadata: { name, namespace: ns, labels }, data });

test('add/update/delete carry the fixture headers and the whole object; pre-existing and unselected objects give none', async () => {
  const ns = await freshNamespace('bridge-src');
  const labels = { app: 'bridge-test' };
  await configMap(ns, 'pre', labels);
  const cm = await recorder();
  const other = await recorder();
  const manifests = yamlDocs(
    broker(ns),
    apiServerSource(ns, 'configmaps', [{ apiVersion: 'v1', kind: 'ConfigMap', selector: { matchLabels: labels } }]),
    trigger(ns, 'configmaps', {
      filters: [{ prefix: { type: 'dev.knative.apiserver.resource.' } }, { exact: { kind: 'ConfigMap' } }],
      subscriber: serviceRef('cm'),
    }),
    trigger(ns, 'machines-only', {
      filters: [{ prefix: { type: 'dev.knative.apiserver.resource.' } }, { exact: { kind: 'Machine' } }],
      subscriber: serviceRef('other'),
    }),
  );
  const { b } = await bridge(manifests, { cm: cm.url, other: other.url });

  const created = await configMap(ns, 'fresh', labels);
  await configMap(ns, 'unselected', { app: 'someone-else' });
  const add = await cm.waitFor('add of fresh', (r) => r.headers['ce-name'] === 'fresh');
  await adminKube().patch(`/api/v1/namespaces/${ns}/configmaps/fresh`, 'merge', { data: { a: '2' } });
  const update = await cm.waitFor(
    'update of fresh',
    (r) => r.headers['ce-type'] === 'dev.knative.apiserver.resource.update' && r.headers['ce-name'] === 'fresh',
  );
  await adminKube().request('DELETE', `/api/v1/namespaces/${ns}/configmaps/fresh`);
  const del = await cm.waitFor('delete of fresh', (r) => r.headers['ce-type'] === 'dev.knative.apiserver.resource.delete');
  await adminKube().patch(`/api/v1/namespaces/${ns}/configmaps/pre`, 'merge', { data: { a: 'changed' } });
  await cm.waitFor('update of pre', (r) => r.headers['ce-name'] === 'pre');
  await sleep(300);

  for (const name of BROKER_DELIVERY_HEADERS) assert.ok(add.headers[name] !== undefined, `header ${name} present`);
  const h = add.headers;
  assert.is(h['ce-specversion'], '1.0');
  assert.match(String(h['ce-id']), UUID);
  assert.is(h['ce-source'], apiServerUrl());
  assert.is(h['ce-type'], 'dev.knative.apiserver.resource.add');
  assert.is(h['ce-subject'], `/apis/v1/namespaces/${ns}/configmaps/fresh`);
  assert.match(String(h['ce-time']), RFC3339);
  assert.match(String(h['ce-knativearrivaltime']), RFC3339);
  assert.is(h['ce-apiversion'], 'v1');
  assert.is(h['ce-kind'], 'ConfigMap');
  assert.is(h['ce-namespace'], ns);
  assert.is(h['content-type'], 'application/json');
  assert.is(h['kn-namespace'], ns);
  assert.is(h.prefer, 'reply');
  assert.is(h['ce-knativebrokerttl'], undefined, 'the TTL stays inside the broker');
  assert.is(add.method, 'POST');
  const body = add.json();
  assert.equal([body.apiVersion, body.kind, body.metadata.name, body.metadata.uid], ['v1', 'ConfigMap', 'fresh', created.metadata.uid]);
  assert.ok(body.metadata.resourceVersion && Array.isArray(body.metadata.managedFields), 'the whole object, managedFields included');
  assert.is(update.json().data.a, '2', 'update carries the new object');
  assert.is(del.json().metadata.name, 'fresh', 'delete carries the last state');
  assert.not.equal(add.headers['ce-id'], update.headers['ce-id'], 'every watch event has its own id');

  assert.equal(
    cm.forName('pre').map((r) => r.headers['ce-type']),
    ['dev.knative.apiserver.resource.update'],
    'no add for an object that existed before the watch',
  );
  assert.is(cm.forName('unselected').length, 0, 'label selector honoured');
  assert.is(other.requests.length, 0, 'a Trigger whose filters do not match gets nothing');
  assert.equal(b.stats().byTrigger.configmaps, { delivered: 4, retried: 0, deadLettered: 0 });
});

test('Machines cluster-wide with a matchExpressions selector; Reference mode; legacy filter.attributes', async () => {
  const ns = await freshNamespace('bridge-machines');
  const run = uniqueName('run');
  const full = await recorder();
  const refs = await recorder();
  const manifests = yamlDocs(
    apiServerSource(
      'bridge-sources',
      'machines',
      [
        {
          apiVersion: 'cluster.k8s.io/v1alpha1',
          kind: 'Machine',
          selector: { matchExpressions: [{ key: 'bridge-run', operator: 'In', values: [run] }] },
        },
      ],
      { namespaceSelector: {} },
    ),
    apiServerSource(
      'bridge-sources',
      'machine-refs',
      [{ apiVersion: 'cluster.k8s.io/v1alpha1', kind: 'Machine', selector: { matchLabels: { 'bridge-run': run } } }],
      { namespaceSelector: {}, mode: 'Reference' },
    ),
    trigger('bridge-sources', 'resource-adds', {
      filter: { attributes: { type: 'dev.knative.apiserver.resource.add', kind: 'Machine' } },
      subscriber: serviceRef('full'),
    }),
    trigger('bridge-sources', 'ref-events', {
      filters: [{ suffix: { type: '.add' } }, { not: { prefix: { type: 'dev.knative.apiserver.resource.' } } }],
      subscriber: serviceRef('refs'),
    }),
  );
  await bridge(manifests, { full: full.url, refs: refs.url });
  const labelled = { ...machine('m1', ns), metadata: { name: 'm1', namespace: ns, labels: { 'bridge-run': run } } };
  await adminKube().create(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machines`, labelled);
  await adminKube().create(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machines`, machine('m2', ns));

  const res = await full.waitFor('Resource-mode add', (r) => r.headers['ce-name'] === 'm1');
  assert.is(res.headers['ce-subject'], `/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machines/m1`);
  assert.is(res.headers['ce-apiversion'], 'cluster.k8s.io/v1alpha1');
  assert.is(res.headers['ce-kind'], 'Machine');
  assert.is(res.json().spec.providerSpec.value.cloudProvider, 'kubevirt');
  const ref = await refs.waitFor('Reference-mode add', (r) => r.headers['ce-name'] === 'm1');
  assert.is(ref.headers['ce-type'], 'dev.knative.apiserver.ref.add');
  assert.equal(Object.keys(ref.json()), Object.keys(referenceBody('', '', '', '')), 'Reference body has the adapter key order');
  assert.equal(ref.json(), { kind: 'Machine', namespace: ns, name: 'm1', apiVersion: 'cluster.k8s.io/v1alpha1' });
  await sleep(300);
  assert.is(full.forName('m2').length + refs.forName('m2').length, 0, 'unlabelled Machine not watched');
  assert.is(full.requests.length, 1);
  assert.is(refs.requests.length, 1, 'the not/suffix filters keep Resource-mode events out');
});

test('namespaceSelector labels select namespaces when the bridge starts; no selector = the own namespace; spec.owner; ceOverrides', async () => {
  const run = uniqueName('team');
  const home = await freshNamespace('bridge-home');
  const labelled: string[] = [];
  for (const prefix of ['bridge-sel-a', 'bridge-sel-b']) {
    const ns = await freshNamespace(prefix);
    await adminKube().patch(`/api/v1/namespaces/${ns}`, 'merge', { metadata: { labels: { team: run } } });
    labelled.push(ns);
  }
  const other = await freshNamespace('bridge-sel-other');
  const bySelector = await recorder();
  const own = await recorder();
  const cms = [{ apiVersion: 'v1', kind: 'ConfigMap' }];
  const manifests = yamlDocs(
    broker(home),
    apiServerSource(home, 'by-label', cms, {
      namespaceSelector: { matchLabels: { team: run } },
      ceOverrides: { extensions: { via: 'bylabel' } },
    }),
    apiServerSource(home, 'own', cms, {
      owner: { apiVersion: 'v1', kind: 'ConfigMap' },
      ceOverrides: { extensions: { via: 'own' } },
    }),
    trigger(home, 'by-label', { filters: [{ exact: { via: 'bylabel' } }], subscriber: serviceRef('bySelector') }),
    trigger(home, 'own', { filters: [{ exact: { via: 'own' } }], subscriber: serviceRef('own') }),
  );
  const { b, log } = await bridge(manifests, { bySelector: bySelector.url, own: own.url });
  assert.ok(
    log.some((l) => l.includes(`namespaceSelector team=${run} selects ${labelled.join(', ')}`)),
    log.join('\n'),
  );
  assert.equal(
    b
      .stats()
      .adapters.map((a) => a.watching)
      .sort(),
    [[`/v1, Resource=configmaps/${home}`], labelled.map((ns) => `/v1, Resource=configmaps/${ns}`)].sort(),
  );

  for (const ns of [...labelled, other, home]) await configMap(ns, 'plain');
  const owner = await configMap(home, 'owner');
  await adminKube().create(`/api/v1/namespaces/${home}/configmaps`, {
    metadata: {
      name: 'owned',
      ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid, controller: true }],
    },
  });
  await own.waitFor('owned', (r) => r.headers['ce-name'] === 'owned');
  for (const ns of labelled) await bySelector.waitFor(`plain in ${ns}`, (r) => r.headers['ce-namespace'] === ns);
  await sleep(500);
  assert.equal(
    bySelector.requests.map((r) => `${r.headers['ce-namespace']}/${r.headers['ce-name']} ${r.headers['ce-via']}`).sort(),
    labelled.map((ns) => `${ns}/plain bylabel`).sort(),
    'only the labelled namespaces',
  );
  assert.equal(
    own.requests.map((r) => `${r.headers['ce-namespace']}/${r.headers['ce-name']} ${r.headers['ce-via']}`),
    [`${home}/owned own`],
    'only its own namespace, only what a ConfigMap controls',
  );
});

test.run();
