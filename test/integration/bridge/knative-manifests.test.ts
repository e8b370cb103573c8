/**
 * The bridge on the real manifests: every YAML file in knative/ (what `npm start` loads).
 * The routing table must build with every Trigger's subscriber a Knative Service declared
 * there; the events the system produces must reach the functions meant to handle them — on the
 * control plane, every Trigger route is taken by events Knative's own receive adapter produced
 * for knative/'s ApiServerSources; and the Triggers must be admissible (the Knative webhook's
 * filter rules, which a server-side dry-run without Knative's webhooks does not check).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { loadBridgeConfig, startBridge } from '../../../dev/bridge/index.js';
import { triggerMatches } from '../../../dev/bridge/filters.js';
import { pingEvent } from '../../../dev/bridge/ping-source.js';
import { eventFromHttp, type BridgeEvent } from '../../../dev/bridge/cloudevent.js';
import { LABEL_MANAGED_BY, MANAGED_BY_VALUE } from '../../../shared/constants.js';
import { adminKube } from '../support/admin.js';
import { apiServerEvent } from '../support/apiserver-events.js';
import { eventually, freshNamespace, uniqueName } from '../support/kube.js';
import { dataVolume, machine, machineDeployment } from '../support/objects.js';
import { adminKubeconfigText, startRecorder, type Recorder } from './support.js';

const test = suite('bridge: knative/ manifests');
const knativeDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'knative');

function manifests(): string[] {
  return readdirSync(knativeDir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => readFileSync(path.join(knativeDir, f), 'utf8'));
}

/** Knative Service names declared in knative/. */
function serviceNames(texts: string[]): string[] {
  return texts
    .flatMap((t) => parseAllDocuments(t).map((d) => d.toJS()))
    .filter((d) => d?.kind === 'Service' && String(d.apiVersion).startsWith('serving.knative.dev/'))
    .map((d) => d.metadata.name as string);
}

const fakeUrls = (names: string[]) => Object.fromEntries(names.map((n) => [n, `http://127.0.0.1:1/${n}`]));
const obj = (apiVersion: string, kind: string) => ({
  apiVersion,
  kind,
  metadata: { name: 'x', namespace: 'ns', uid: 'u', resourceVersion: '1' },
});
const KINDS = {
  Machine: obj('cluster.k8s.io/v1alpha1', 'Machine'),
  MachineSet: obj('cluster.k8s.io/v1alpha1', 'MachineSet'),
  MachineDeployment: obj('cluster.k8s.io/v1alpha1', 'MachineDeployment'),
  DataVolume: obj('cdi.kubevirt.io/v1beta1', 'DataVolume'),
  VirtualMachineInstance: obj('kubevirt.io/v1', 'VirtualMachineInstance'),
  // Cluster-scoped: no namespace.
  Node: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'x', uid: 'u', resourceVersion: '1' } },
};

test('the routing table builds from all of knative/, every subscriber a declared Knative Service', () => {
  const texts = manifests();
  assert.ok(texts.length > 0, 'knative/ has YAML files');
  const services = serviceNames(texts);
  const config = loadBridgeConfig(texts, fakeUrls(services), { strictAdmission: false });
  assert.ok(config.triggers.length > 0, 'Triggers found');
  for (const t of config.triggers) {
    assert.ok(
      services.includes(t.subscriber),
      `Trigger ${t.name}: subscriber ${t.subscriber} is a Knative Service in knative/ (${services.join(', ')})`,
    );
    assert.ok(config.brokers.includes(t.broker), `Trigger ${t.name}: Broker ${t.broker} declared`);
    assert.ok(t.delivery.retry > 0 && t.delivery.deadLetter, `Trigger ${t.name}: retries and a dead-letter sink`);
  }
  for (const s of services)
    assert.ok(
      config.triggers.some((t) => t.subscriber === s),
      `Service ${s} is some Trigger's subscriber`,
    );
  const watched = config.apiServerSources.flatMap((s) => s.resources.map((r) => r.kind)).sort();
  assert.equal(watched, Object.keys(KINDS).sort(), 'one watch per kind the functions handle');
  assert.ok(config.apiServerSources.every((s) => s.mode === 'Resource' && s.sink.kind === 'broker'));
  assert.is(config.pingSources.length, 1);
});

test('the events the system produces reach the functions meant for them', () => {
  const texts = manifests();
  const config = loadBridgeConfig(texts, fakeUrls(serviceNames(texts)), { strictAdmission: false });
  const routed = (ev: BridgeEvent) =>
    config.triggers
      .filter((t) => triggerMatches(t.filter, ev))
      .map((t) => t.subscriber)
      .sort();
  const asBridgeEvent = (ev: { headers: Record<string, string>; body: string }) => eventFromHttp(ev.headers, Buffer.from(ev.body));
  const resource = (kind: keyof typeof KINDS) =>
    asBridgeEvent(apiServerEvent({ mode: 'Resource', operation: 'add', structured: false }, KINDS[kind]));
  assert.equal(routed(resource('Machine')), ['machine', 'machineset']);
  assert.equal(routed(resource('MachineSet')), ['machinedeployment', 'machineset']);
  assert.equal(routed(resource('MachineDeployment')), ['machinedeployment']);
  assert.equal(routed(resource('DataVolume')), ['datavolume']);
  assert.equal(routed(resource('VirtualMachineInstance')), ['vmi']);
  assert.equal(routed(resource('Node')), ['node']);
  assert.equal(routed(pingEvent(config.pingSources[0]!)), ['resync']);
  // functions/resync re-announces current objects as Reference-mode update events through the
  // Broker; unless a Trigger routes them, resync re-reconciles nothing.
  const reannounce = (kind: keyof typeof KINDS) => {
    const ev = asBridgeEvent(apiServerEvent({ mode: 'Reference', operation: 'update', structured: false }, KINDS[kind]));
    return { ...ev, attributes: { ...ev.attributes, source: '/kubevirt-machine-functions/resync' } };
  };
  assert.ok(
    routed(reannounce('Machine')).includes('machine'),
    `resync's Machine re-announcement (dev.knative.apiserver.ref.update) reaches: [${routed(reannounce('Machine'))}]`,
  );
  assert.ok(
    routed(reannounce('DataVolume')).includes('datavolume'),
    `resync's DataVolume re-announcement reaches: [${routed(reannounce('DataVolume'))}]`,
  );
  assert.ok(
    routed(reannounce('VirtualMachineInstance')).includes('vmi'),
    `resync's VMI re-announcement reaches: [${routed(reannounce('VirtualMachineInstance'))}]`,
  );
  // A Machine's re-announcement is also the datavolume, vmi and node functions' Machine-keyed entry;
  // sets are re-announced too, so one applied while no source watched converges on a tick.
  assert.equal(routed(reannounce('Machine')), ['datavolume', 'machine', 'machineset', 'node', 'vmi']);
  assert.equal(routed(reannounce('MachineSet')), ['machinedeployment', 'machineset']);
  assert.equal(routed(reannounce('MachineDeployment')), ['machinedeployment']);
});

test('every Trigger in knative/ is admissible by the Knative webhook', () => {
  const texts = manifests();
  const config = loadBridgeConfig(texts, fakeUrls(serviceNames(texts)), { strictAdmission: false });
  assert.equal(config.admissionProblems, [], `a cluster would refuse:\n${config.admissionProblems.join('\n')}`);
});

test("on the control plane: every Trigger route taken by the real adapter's events for knative/'s sources, and a ping", async () => {
  const texts = manifests();
  const names = serviceNames(texts);
  const recorders: Record<string, Recorder> = {};
  for (const n of names) recorders[n] = await startRecorder();
  const bridge = await startBridge({
    kubeconfig: adminKubeconfigText(),
    manifests: texts,
    subscribers: Object.fromEntries(names.map((n) => [n, recorders[n]!.url])),
    log: () => {},
    pingIntervalMs: 200,
    strictAdmission: false,
  });
  // Objects carrying our managed-by label are watched by every later stack's infra sources (and
  // a simulator would keep working on them): none may outlive this test.
  const created: string[] = [];
  try {
    const adapters = bridge.stats().adapters;
    assert.equal(
      adapters.map((a) => `${a.source} ${a.serviceAccountName} ${a.ready}`).sort(),
      [
        'kubevirt-machine-functions/datavolumes datavolumes-source true',
        'kubevirt-machine-functions/machinedeployments machinedeployments-source true',
        'kubevirt-machine-functions/machines machines-source true',
        'kubevirt-machine-functions/machinesets machinesets-source true',
        'kubevirt-machine-functions/nodes nodes-source true',
        'kubevirt-machine-functions/virtualmachineinstances virtualmachineinstances-source true',
      ],
      'one adapter per ApiServerSource, each watching when startBridge resolves',
    );
    const ns = await freshNamespace('bridge-knative');
    const name = uniqueName('k');
    const ours = { [LABEL_MANAGED_BY]: MANAGED_BY_VALUE };
    const m = machine(name, ns) as any;
    const md = machineDeployment(name, ns, 0) as any;
    const ms = { ...md, kind: 'MachineSet', spec: { ...md.spec } };
    const dv = dataVolume(name, ns) as any;
    dv.metadata.labels = ours;
    const vmi = {
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachineInstance',
      metadata: { name, namespace: ns, labels: ours },
      // What KubeVirt's VMI admission requires of a VMI created directly (no VMI mutator defaults it).
      spec: { architecture: 'amd64', domain: { devices: {}, resources: { requests: { memory: '64Mi' } } } },
    };
    const unlabelled = { ...dataVolume(`${name}-foreign`, ns) };
    for (const [plural, group, o] of [
      ['machines', 'cluster.k8s.io/v1alpha1', m],
      ['machinesets', 'cluster.k8s.io/v1alpha1', ms],
      ['machinedeployments', 'cluster.k8s.io/v1alpha1', md],
      ['datavolumes', 'cdi.kubevirt.io/v1beta1', dv],
      ['datavolumes', 'cdi.kubevirt.io/v1beta1', unlabelled],
      ['virtualmachineinstances', 'kubevirt.io/v1', vmi],
    ] as const) {
      await adminKube().create(`/apis/${group}/namespaces/${ns}/${plural}`, o);
      created.push(`/apis/${group}/namespaces/${ns}/${plural}/${o.metadata.name}`);
    }
    const routes: [string, string, string][] = [
      ['machine', 'Machine', 'cluster.k8s.io/v1alpha1'],
      ['machineset', 'Machine', 'cluster.k8s.io/v1alpha1'],
      ['machineset', 'MachineSet', 'cluster.k8s.io/v1alpha1'],
      ['machinedeployment', 'MachineSet', 'cluster.k8s.io/v1alpha1'],
      ['machinedeployment', 'MachineDeployment', 'cluster.k8s.io/v1alpha1'],
      ['datavolume', 'DataVolume', 'cdi.kubevirt.io/v1beta1'],
      ['vmi', 'VirtualMachineInstance', 'kubevirt.io/v1'],
    ];
    // A Node (cluster-scoped; ce-namespace empty) reaches the node function.
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: `${name}-node` } };
    await adminKube().create('/api/v1/nodes', node);
    created.push(`/api/v1/nodes/${node.metadata.name}`);
    const n = await recorders.node!.waitFor(
      'node: Node add',
      (x) => x.headers['ce-kind'] === 'Node' && x.headers['ce-name'] === node.metadata.name,
    );
    assert.is(n.headers['ce-type'], 'dev.knative.apiserver.resource.add');
    assert.is(n.headers['ce-apiversion'], 'v1');
    assert.is(n.headers['ce-namespace'] ?? '', '');
    assert.is(n.json().metadata.name, node.metadata.name);
    for (const [fn, kind, apiVersion] of routes) {
      const r = await recorders[fn]!.waitFor(
        `${fn}: ${kind} add`,
        (x) => x.headers['ce-kind'] === kind && x.headers['ce-name'] === name && x.headers['ce-namespace'] === ns,
      );
      assert.is(r.headers['ce-type'], 'dev.knative.apiserver.resource.add', `${fn} ${kind}`);
      assert.is(r.headers['ce-apiversion'], apiVersion);
      assert.is(r.headers['kn-namespace'], 'kubevirt-machine-functions');
      assert.is(r.json().metadata.name, name);
    }
    await recorders.resync!.waitFor('resync: a tick', (x) => x.headers['ce-type'] === 'dev.knative.sources.ping');
    await bridge.idle();
    // Nothing else: each kind reached exactly the Triggers above, the unlabelled DataVolume none.
    const got = Object.entries(recorders)
      .flatMap(([fn, r]) =>
        r.requests.filter((x) => x.headers['ce-namespace'] === ns).map((x) => `${fn} ${x.headers['ce-kind']} ${x.headers['ce-name']}`),
      )
      .sort();
    assert.equal(got, routes.map(([fn, kind]) => `${fn} ${kind} ${name}`).sort());
    assert.ok(
      bridge.stats().adapters.every((a) => a.restarts === 0 && a.missing.length === 0),
      JSON.stringify(bridge.stats().adapters),
    );
    assert.match(bridge.ingressUrl, /\/kubevirt-machine-functions\/default$/);
  } finally {
    await bridge.stop();
    for (const r of Object.values(recorders)) await r.close();
    for (const path of created) await adminKube().delete(path);
    await eventually('the test objects are gone', async () => (await Promise.all(created.map((p) => adminKube().get(p)))).every((o) => !o));
  }
});

test.run();
