/**
 * The bridge on the real manifests: every YAML file in knative/ (what `npm start` loads).
 * The routing table must build with every Trigger's subscriber a Knative Service declared
 * there; the events the system produces must reach the functions meant to handle them; and
 * the Triggers must be admissible (the Knative webhook's filter rules, which a server-side
 * dry-run without Knative's webhooks does not check).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { loadBridgeConfig, startBridge } from '../../../dev/bridge/index.js';
import { apiServerEvent } from '../../../dev/bridge/apiserver-source.js';
import { triggerMatches } from '../../../dev/bridge/filters.js';
import { pingEvent } from '../../../dev/bridge/ping-source.js';
import type { BridgeEvent } from '../../../dev/bridge/cloudevent.js';
import { adminKube } from '../support/admin.js';
import { freshNamespace } from '../support/kube.js';
import { machine } from '../support/objects.js';
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
  const resource = (kind: keyof typeof KINDS) => apiServerEvent({ mode: 'Resource', extensions: {} }, 'https://api', 'ADDED', KINDS[kind]);
  assert.equal(routed(resource('Machine')), ['machine', 'machineset']);
  assert.equal(routed(resource('MachineSet')), ['machinedeployment', 'machineset']);
  assert.equal(routed(resource('MachineDeployment')), ['machinedeployment']);
  assert.equal(routed(resource('DataVolume')), ['datavolume']);
  assert.equal(routed(resource('VirtualMachineInstance')), ['vmi']);
  assert.equal(routed(pingEvent(config.pingSources[0]!)), ['resync']);
  // functions/resync re-announces current objects as Reference-mode update events through the
  // Broker; unless a Trigger routes them, resync re-reconciles nothing.
  const reannounce = (kind: keyof typeof KINDS) =>
    apiServerEvent({ mode: 'Reference', extensions: {} }, '/kubevirt-machine-functions/resync', 'MODIFIED', KINDS[kind]);
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
});

test('every Trigger in knative/ is admissible by the Knative webhook', () => {
  const texts = manifests();
  const config = loadBridgeConfig(texts, fakeUrls(serviceNames(texts)), { strictAdmission: false });
  assert.equal(config.admissionProblems, [], `a cluster would refuse:\n${config.admissionProblems.join('\n')}`);
});

test('on the control plane: a new Machine reaches machine and machineset, a ping reaches resync', async () => {
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
  try {
    const ns = await freshNamespace('bridge-knative');
    await adminKube().create(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machines`, machine('m-knative', ns));
    for (const fn of ['machine', 'machineset']) {
      const r = await recorders[fn]!.waitFor(
        `${fn}: Machine add`,
        (x) => x.headers['ce-name'] === 'm-knative' && x.headers['ce-namespace'] === ns,
      );
      assert.is(r.headers['ce-type'], 'dev.knative.apiserver.resource.add');
      assert.is(r.headers['kn-namespace'], 'kubevirt-machine-functions');
    }
    await recorders.resync!.waitFor('resync: a tick', (x) => x.headers['ce-type'] === 'dev.knative.sources.ping');
    assert.is(recorders.vmi!.forName('m-knative').length + recorders.datavolume!.forName('m-knative').length, 0);
    assert.ok(
      bridge.stats().watches.every((w) => w.lists === 1 && w.errors === 0),
      JSON.stringify(bridge.stats().watches),
    );
    assert.match(bridge.ingressUrl, /\/kubevirt-machine-functions\/default$/);
  } finally {
    await bridge.stop();
    for (const r of Object.values(recorders)) await r.close();
  }
});

test.run();
