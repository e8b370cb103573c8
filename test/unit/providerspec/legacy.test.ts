import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { detectSchema, flatDeprecation } from '../../../shared/providerspec/legacy.js';
import { KUBECONFIG_BASE64, KUBECONFIG_JSON, KUBECONFIG_YAML, expectIssue, flatSpec, parseFail, parseOk } from './helpers.js';

const withFlat = (edit: (spec: Record<string, any>) => void) => {
  const v = flatSpec();
  edit(v.cloudProviderSpec);
  return v;
};
const notice = (r: { deprecations: string[] }, field: string) =>
  assert.ok(
    r.deprecations.some((d) => d.startsWith(`cloudProviderSpec.${field} is deprecated since machine-controller`)),
    `no notice for ${field}: ${r.deprecations}`,
  );

test('the 2019 flat spec normalises into the model', async () => {
  const r = await parseOk(flatSpec());
  assert.is(r.schema, 'flat');
  assert.equal(r.config.vm, {
    resources: { cpu: '1', memory: '2048M' },
    primaryDisk: {
      size: '10Gi',
      storageClassName: 'kubermatic-fast',
      storageAccessType: 'ReadWriteOnce',
      storageTarget: 'pvc',
      image: { osImage: 'http://10.109.79.210/ubuntu.img', source: 'http', pullMethod: 'node' },
    },
    secondaryDisks: [],
    networkMultiQueue: true,
    evictionStrategy: 'External',
    topologySpreadConstraints: [],
  });
  assert.is(r.config.namespace, 'kube-system');
  assert.is(r.config.kubeconfig, KUBECONFIG_YAML);
  assert.is(r.config.clusterName, '');
});

test('every flat field used yields its deprecation notice', async () => {
  const r = await parseOk(withFlat((s) => Object.assign(s, { dnsPolicy: 'ClusterFirst', dnsConfig: { nameservers: ['1.1.1.1'] } })));
  for (const f of ['kubeconfig', 'cpus', 'memory', 'namespace', 'sourceURL', 'pvcSize', 'storageClassName', 'dnsPolicy', 'dnsConfig'])
    notice(r, f);
  assert.ok(
    r.deprecations.includes(
      'cloudProviderSpec.sourceURL is deprecated since machine-controller 72f156a2c (2022); use virtualMachine.template.primaryDisk.osImage',
    ),
  );
  assert.match(flatDeprecation('config'), 'c362d5ba4');
});

test('sourceURL: http(s) → http source; other forms auto-detected; required', async () => {
  assert.is((await parseOk(withFlat((s) => (s.sourceURL = 'https://img/x.qcow2')))).config.vm.primaryDisk.image.source, 'http');
  const other = await parseOk(withFlat((s) => (s.sourceURL = 'docker://quay.io/x:1')));
  assert.equal(other.config.vm.primaryDisk.image, { osImage: 'docker://quay.io/x:1', source: '', pullMethod: 'node' });
  expectIssue(await parseFail(withFlat((s) => delete s.sourceURL)), 'cloudProviderSpec.sourceURL', '"sourceURL" must be set');
  const ref = withFlat((s) => (s.sourceURL = { secretKeyRef: { namespace: 'a', name: 'b', key: 'c' } }));
  expectIssue(await parseFail(ref), 'cloudProviderSpec.sourceURL', 'failed to get value of "sourceURL" field');
});

test('pvcSize: the primary disk size; must be a quantity', async () => {
  assert.is((await parseOk(withFlat((s) => (s.pvcSize = '25Gi')))).config.vm.primaryDisk.size, '25Gi');
  const i = expectIssue(
    await parseFail(withFlat((s) => (s.pvcSize = '10 GB'))),
    'cloudProviderSpec.pvcSize',
    'failed to parse value of "pvcSize" field: quantities must match the regular expression',
  );
  assert.is(i.value, '10 GB');
  expectIssue(await parseFail(withFlat((s) => delete s.pvcSize)), 'cloudProviderSpec.pvcSize', 'failed to parse value of "pvcSize" field');
});

test('cpus and memory: quantities, required', async () => {
  assert.equal((await parseOk(withFlat((s) => Object.assign(s, { cpus: 2, memory: '4Gi' })))).config.vm.resources, {
    cpu: '2',
    memory: '4Gi',
  });
  expectIssue(await parseFail(withFlat((s) => (s.cpus = 'x'))), 'cloudProviderSpec.cpus', 'failed to parse cpu requests');
  expectIssue(await parseFail(withFlat((s) => (s.cpus = '0'))), 'cloudProviderSpec.cpus', 'no CPUs configured');
  expectIssue(await parseFail(withFlat((s) => delete s.memory)), 'cloudProviderSpec.memory', 'failed to parse memory requests');
});

test('namespace: carried in MachineConfig.namespace; "" → unset', async () => {
  assert.is((await parseOk(withFlat((s) => (s.namespace = 'vms')))).config.namespace, 'vms');
  assert.not.ok('namespace' in (await parseOk(withFlat((s) => delete s.namespace))).config);
  const ref = withFlat((s) => (s.namespace = { configMapKeyRef: { namespace: 'a', name: 'b', key: 'c' } }));
  expectIssue(await parseFail(ref), 'cloudProviderSpec.namespace', 'failed to get value of "namespace" field');
});

test('storageClassName: the primary disk class', async () => {
  assert.is((await parseOk(withFlat((s) => (s.storageClassName = 'local-path')))).config.vm.primaryDisk.storageClassName, 'local-path');
  const ref = withFlat((s) => (s.storageClassName = { secretKeyRef: { namespace: 'a', name: 'b', key: 'c' } }));
  expectIssue(await parseFail(ref), 'cloudProviderSpec.storageClassName', 'failed to get value of "storageClassName" field');
});

test('kubeconfig / config: raw YAML, JSON or base64, from value, Secret or env', async () => {
  for (const text of [KUBECONFIG_YAML, KUBECONFIG_BASE64]) {
    assert.is((await parseOk(withFlat((s) => (s.kubeconfig = { value: text })))).config.kubeconfig, KUBECONFIG_YAML);
    assert.is((await parseOk(withFlat((s) => (s.kubeconfig = text)))).config.kubeconfig, KUBECONFIG_YAML);
  }
  assert.is((await parseOk(withFlat((s) => (s.kubeconfig = KUBECONFIG_JSON)))).config.kubeconfig, KUBECONFIG_JSON);
  const cfg = await parseOk(
    withFlat((s) => {
      delete s.kubeconfig;
      s.config = { value: KUBECONFIG_YAML };
    }),
  );
  assert.is(cfg.config.kubeconfig, KUBECONFIG_YAML);
  notice(cfg, 'config');
  const env = await parseOk(
    withFlat((s) => delete s.kubeconfig),
    { env: { KUBEVIRT_KUBECONFIG: KUBECONFIG_BASE64 } },
  );
  assert.is(env.config.kubeconfig, KUBECONFIG_YAML);
  const sec = withFlat((s) => (s.kubeconfig = { secretKeyRef: { namespace: 'ks', name: 'kc', key: 'k' } }));
  assert.is((await parseOk(sec, { secrets: { 'ks/kc': { k: KUBECONFIG_YAML } } })).config.kubeconfig, KUBECONFIG_YAML);
  expectIssue(await parseFail(sec), 'cloudProviderSpec.kubeconfig', `failed to get value of "config" field: error retrieving secret 'kc'`);
  const bad = await parseFail(withFlat((s) => (s.kubeconfig = 'server: nowhere')));
  expectIssue(bad, 'cloudProviderSpec.kubeconfig', 'failed to decode kubeconfig');
  assert.not.ok(JSON.stringify(bad).includes('nowhere'));
});

test('config and kubeconfig together are an error', async () => {
  const v = withFlat((s) => (s.config = { value: KUBECONFIG_YAML }));
  const i = expectIssue(await parseFail(v), 'cloudProviderSpec.config', 'fields "config" and "kubeconfig" are the same setting');
  assert.not.ok(JSON.stringify(i).includes('infra-ctx'));
});

test('dnsPolicy and dnsConfig: same rules as the nested schema', async () => {
  const ok = await parseOk(withFlat((s) => Object.assign(s, { dnsPolicy: 'None', dnsConfig: { nameservers: ['8.8.8.8'] } })));
  assert.is(ok.config.vm.dnsPolicy, 'None');
  assert.equal(ok.config.vm.dnsConfig, { nameservers: ['8.8.8.8'] });
  expectIssue(
    await parseFail(withFlat((s) => (s.dnsPolicy = 'None'))),
    'cloudProviderSpec.dnsConfig',
    'dns config must be specified when dns policy is None',
  );
  expectIssue(
    await parseFail(withFlat((s) => (s.dnsPolicy = 'Bogus'))),
    'cloudProviderSpec.dnsPolicy',
    'failed to get dns policy: unknown dns policy: Bogus',
  );
});

test('flat keys match case-insensitively; unknown flat keys are rejected', async () => {
  const r = await parseOk(
    withFlat((s) => {
      s.SourceUrl = s.sourceURL;
      delete s.sourceURL;
      s.PVCSIZE = '5Gi';
      delete s.pvcSize;
    }),
  );
  assert.is(r.schema, 'flat');
  assert.is(r.config.vm.primaryDisk.size, '5Gi');
  notice(r, 'sourceURL');
  expectIssue(
    await parseFail(withFlat((s) => (s.registryImage = 'quay.io/x'))),
    'cloudProviderSpec.registryImage',
    'json: unknown field "registryImage"',
  );
});

test('mixing flat and nested fields is an error naming both', async () => {
  const v = withFlat((s) => (s.virtualMachine = { template: { cpus: '1' } }));
  const i = expectIssue(await parseFail(v), 'cloudProviderSpec', 'mixes flat (2019) fields');
  assert.match(i.message, 'sourceURL');
  assert.match(i.message, 'pvcSize');
  assert.match(i.message, '[virtualMachine]');
  assert.equal(detectSchema({ auth: {}, Namespace: 'x' }), { schema: 'mixed', flatFields: ['namespace'], nestedFields: ['auth'] });
  assert.equal(detectSchema({ auth: {}, namespace: null }), { schema: 'nested' });
  assert.equal(detectSchema({}), { schema: 'nested' });
});

test('env CLUSTER_ID / PROJECT_ID apply to the flat schema too', async () => {
  const r = await parseOk(flatSpec(), { env: { CLUSTER_ID: 'c1', PROJECT_ID: 'p1' } });
  assert.is(r.config.clusterName, 'c1');
  assert.is(r.config.projectID, 'p1');
});

test.run();
