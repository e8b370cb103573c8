/**
 * knative/ routes events as the functions need them, checked on the manifests themselves: the
 * Trigger filters (what reaches which function; follow-ups nowhere, but machine.ready to the
 * node function), the infra sources' label selectors against what the machine function
 * labels, and the cross-reference check's own failure cases (the Knative webhook rules the test
 * control plane cannot run).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { FollowUpType, followUpSource } from '../../../events/followup.js';
import { ownershipLabels, withOwnership } from '../../../shared/infra/ownership.js';
import type { VirtualMachine } from '../../../shared/vm/types.js';
import { NAMESPACE, crossReferenceFindings, filtersMatch, loadManifests, where } from './manifests.js';

const test = suite('knative/: event routing and the cross-reference rules');
const { objects } = loadManifests();

test('the cross-reference check catches a Trigger timeout longer than its Service, an httpGet probe and a two-attribute exact filter', () => {
  const copies = objects.map((d) => ({ ...d, obj: structuredClone(d.obj) }));
  const dv = copies.find((d) => d.obj.kind === 'Trigger' && d.obj.metadata.name === 'datavolume')!;
  dv.obj.spec.filters = [{ exact: { kind: 'DataVolume', apiversion: 'cdi.kubevirt.io/v1beta1' } }];
  const trigger = copies.find((d) => d.obj.kind === 'Trigger' && d.obj.metadata.name === 'machine')!;
  trigger.obj.spec.delivery.timeout = 'PT5M';
  const svc = copies.find((d) => d.obj.kind === 'Service' && d.obj.metadata.name === 'vmi')!;
  svc.obj.spec.template.spec.containers[0].readinessProbe = { httpGet: { path: '/' } };
  const findings = crossReferenceFindings(copies);
  assert.ok(
    findings.some((f) =>
      /Trigger kubevirt-machine-functions\/machine: delivery\.timeout PT5M is longer than Service machine's timeoutSeconds 30/.test(f),
    ),
    findings.join('\n'),
  );
  assert.ok(
    findings.some((f) => /Service kubevirt-machine-functions\/vmi: readiness must be a tcpSocket probe/.test(f)),
    findings.join('\n'),
  );
  // The schema accepts it (exact preserves unknown fields); the Knative webhook would not.
  assert.ok(
    findings.some((f) =>
      /Trigger kubevirt-machine-functions\/datavolume: spec\.filters\[0\]\.exact: 2 attributes \(kind, apiversion\)/.test(f),
    ),
    findings.join('\n'),
  );
});

test('the Trigger filters route every event to the functions that need it, and follow-ups nowhere', () => {
  const triggers = objects.filter((d) => d.obj.kind === 'Trigger');
  const route = (attrs: Record<string, string>) =>
    triggers
      .filter((t) => filtersMatch(t.obj.spec.filters, attrs))
      .map((t) => t.obj.metadata.name)
      .sort();
  const api = (mode: 'resource' | 'ref', op: string, kind: string, apiversion: string) => ({
    type: `dev.knative.apiserver.${mode}.${op}`,
    source: 'https://10.96.0.1:443',
    kind,
    apiversion,
  });
  const M = 'cluster.k8s.io/v1alpha1';
  const cases: [string, Record<string, string>, string[]][] = [
    ['Machine added', api('resource', 'add', 'Machine', M), ['machine', 'machineset']],
    ['Machine deleted', api('resource', 'delete', 'Machine', M), ['machine', 'machineset']],
    ['MachineSet updated', api('resource', 'update', 'MachineSet', M), ['machinedeployment', 'machineset']],
    ['MachineDeployment updated', api('resource', 'update', 'MachineDeployment', M), ['machinedeployment']],
    ['DataVolume updated', api('resource', 'update', 'DataVolume', 'cdi.kubevirt.io/v1beta1'), ['datavolume']],
    ['VMI updated', api('resource', 'update', 'VirtualMachineInstance', 'kubevirt.io/v1'), ['vmi']],
    // functions/resync re-announces every kind a function consumes as Reference-mode updates;
    // a Machine's also reaches the datavolume and vmi functions (its Machine-keyed entry).
    [
      'resync re-announces a Machine',
      { ...api('ref', 'update', 'Machine', M), source: followUpSource('resync') },
      ['datavolume', 'machine', 'machineset', 'node', 'vmi'],
    ],
    [
      'resync re-announces a MachineSet',
      { ...api('ref', 'update', 'MachineSet', M), source: followUpSource('resync') },
      ['machinedeployment', 'machineset'],
    ],
    [
      'resync re-announces a MachineDeployment',
      { ...api('ref', 'update', 'MachineDeployment', M), source: followUpSource('resync') },
      ['machinedeployment'],
    ],
    [
      'resync re-announces a DataVolume',
      { ...api('ref', 'update', 'DataVolume', 'cdi.kubevirt.io/v1beta1'), source: followUpSource('resync') },
      ['datavolume'],
    ],
    [
      'resync re-announces a VMI',
      { ...api('ref', 'update', 'VirtualMachineInstance', 'kubevirt.io/v1'), source: followUpSource('resync') },
      ['vmi'],
    ],
    [
      'our PingSource ticks',
      { type: 'dev.knative.sources.ping', source: `/apis/v1/namespaces/${NAMESPACE}/pingsources/resync` },
      ['resync'],
    ],
    ['another PingSource ticks', { type: 'dev.knative.sources.ping', source: `/apis/v1/namespaces/${NAMESPACE}/pingsources/other` }, []],
    ['a VirtualMachine event (not watched)', api('resource', 'update', 'VirtualMachine', 'kubevirt.io/v1'), []],
    ['Node updated', api('resource', 'update', 'Node', 'v1'), ['node']],
    ['Node deleted', api('resource', 'delete', 'Node', 'v1'), ['node']],
    ['a Pod event (not watched)', api('resource', 'update', 'Pod', 'v1'), []],
  ];
  for (const [what, attrs, want] of cases) assert.equal(route(attrs), want, what);
  // Follow-ups go to the same Broker: no Trigger may take them (no loops, no duplicates), but
  // for the one the node function consumes (a Node registered before its Machine was ready).
  for (const type of Object.values(FollowUpType)) {
    const want = type === FollowUpType.ready ? ['node'] : [];
    assert.equal(route({ type, source: followUpSource('vmi'), kind: 'Machine', apiversion: M, machinename: 'm' }), want, type);
  }
  // Every source's events reach a function.
  for (const d of objects.filter((o) => o.obj.kind === 'ApiServerSource')) {
    for (const r of d.obj.spec.resources)
      assert.ok(route(api('resource', 'add', r.kind, r.apiVersion)).length > 0, `${where(d)}: ${r.kind} events reach no Trigger`);
  }
});

test('the infra sources select exactly what the machine function labels: DataVolume templates and the VMI template', () => {
  const labels = ownershipLabels({ namespace: 'ns', name: 'm', uid: 'uid' }, 'cluster');
  const bare = {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name: 'm', namespace: 'infra', labels: {} },
    spec: { template: { metadata: { labels: {} }, spec: {} }, dataVolumeTemplates: [{ metadata: { name: 'm' }, spec: {} }] },
  } as unknown as VirtualMachine;
  const vm = withOwnership(bare, labels) as any;
  const labelsOf: Record<string, Record<string, string>> = {
    DataVolume: vm.spec.dataVolumeTemplates[0].metadata.labels,
    VirtualMachineInstance: vm.spec.template.metadata.labels,
  };
  for (const d of objects.filter((o) => o.obj.kind === 'ApiServerSource' && o.file.startsWith(path.join('knative', 'infra')))) {
    for (const r of d.obj.spec.resources) {
      const want = r.selector?.matchLabels ?? {};
      assert.ok(Object.keys(want).length > 0, `${where(d)}: selects every ${r.kind}, not only ours`);
      for (const [k, v] of Object.entries(want)) assert.is(labelsOf[r.kind]?.[k], v, `${where(d)}: ${r.kind} label ${k}`);
    }
  }
});

test.run();
