import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  KUBECONFIG_BASE64,
  KUBECONFIG_JSON,
  KUBECONFIG_SERVER,
  KUBECONFIG_TOKEN,
  KUBECONFIG_YAML,
  b64,
  expectIssue,
  nestedSpec,
  parseFail,
  parseOk,
} from './helpers.js';

const KC = 'cloudProviderSpec.auth.kubeconfig';
const withKubeconfig = (kubeconfig: unknown) => {
  const v = nestedSpec();
  if (kubeconfig === undefined) delete v.cloudProviderSpec.auth;
  else v.cloudProviderSpec.auth = { kubeconfig };
  return v;
};
const secrets = { 'kube-system/infra': { raw: KUBECONFIG_YAML, enc: KUBECONFIG_BASE64, json: KUBECONFIG_JSON } };

test('inline kubeconfig value must be base64 (YAML or JSON inside)', async () => {
  assert.is((await parseOk(withKubeconfig({ value: KUBECONFIG_BASE64 }))).config.kubeconfig, KUBECONFIG_YAML);
  assert.is((await parseOk(withKubeconfig(b64(KUBECONFIG_JSON)))).config.kubeconfig, KUBECONFIG_JSON);
  const issues = await parseFail(withKubeconfig({ value: KUBECONFIG_YAML }));
  const i = expectIssue(
    issues,
    KC,
    'failed to decode base64 encoded kubeconfig. Expected value is a base64 encoded Kubeconfig in JSON or YAML format: illegal base64 data at input byte',
  );
  assert.equal(i.value, { value: '<redacted>' });
});

test('decoded kubeconfig must be a usable kubeconfig', async () => {
  const issues = await parseFail(withKubeconfig({ value: b64('clusters: []\n') }));
  expectIssue(issues, KC, 'failed to decode kubeconfig: invalid configuration: no configuration has been provided');
  const bad = await parseFail(withKubeconfig({ value: b64(`{"clusters": [ ${KUBECONFIG_TOKEN}`) }));
  expectIssue(bad, KC, 'failed to decode kubeconfig: not valid YAML or JSON at line');
});

test('kubeconfig from a Secret or ConfigMap: raw or base64 (lenient)', async () => {
  for (const key of ['raw', 'enc', 'json']) {
    const ref = { secretKeyRef: { namespace: 'kube-system', name: 'infra', key } };
    const expected = key === 'json' ? KUBECONFIG_JSON : KUBECONFIG_YAML;
    assert.is((await parseOk(withKubeconfig(ref), { secrets })).config.kubeconfig, expected, key);
  }
  const cm = { configMapKeyRef: { namespace: 'kube-system', name: 'infra', key: 'raw' } };
  assert.is((await parseOk(withKubeconfig(cm), { configMaps: secrets })).config.kubeconfig, KUBECONFIG_YAML);
});

test('kubeconfig from env KUBEVIRT_KUBECONFIG when the field is empty or absent', async () => {
  for (const env of [KUBECONFIG_YAML, KUBECONFIG_BASE64]) {
    assert.is((await parseOk(withKubeconfig(undefined), { env: { KUBEVIRT_KUBECONFIG: env } })).config.kubeconfig, KUBECONFIG_YAML);
    assert.is((await parseOk(withKubeconfig({ value: '' }), { env: { KUBEVIRT_KUBECONFIG: env } })).config.kubeconfig, KUBECONFIG_YAML);
  }
  const bad = await parseFail(withKubeconfig(undefined), { env: { KUBEVIRT_KUBECONFIG: 'just text' } });
  expectIssue(bad, KC, 'failed to decode kubeconfig: not a kubeconfig');
});

test('no kubeconfig at all → undefined (in-cluster connection)', async () => {
  const r = await parseOk(withKubeconfig(undefined));
  assert.is(r.config.kubeconfig, undefined);
  assert.not.ok('kubeconfig' in r.config);
});

test('unreadable kubeconfig reference: env fallback with a warning, else an issue', async () => {
  const ref = { secretKeyRef: { namespace: 'kube-system', name: 'gone', key: 'k' } };
  const r = await parseOk(withKubeconfig(ref), { env: { KUBEVIRT_KUBECONFIG: KUBECONFIG_YAML } });
  assert.is(r.config.kubeconfig, KUBECONFIG_YAML);
  assert.ok(r.warnings?.some((w) => w.includes("error retrieving secret 'gone'")));
  const issues = await parseFail(withKubeconfig(ref));
  expectIssue(issues, KC, `failed to get value of "kubeconfig" field: error retrieving secret 'gone' from namespace 'kube-system'`);
});

test('no error message or issue value ever contains kubeconfig content', async () => {
  const secretish = [KUBECONFIG_SERVER, KUBECONFIG_TOKEN, 'infra-ctx', KUBECONFIG_BASE64.slice(0, 24)];
  const broken = KUBECONFIG_YAML.replace('current-context: infra-ctx', 'current-context: missing');
  const cases: [unknown, Record<string, unknown>?][] = [
    [{ value: KUBECONFIG_YAML }],
    [{ value: `${KUBECONFIG_BASE64}!` }],
    [{ value: b64(broken) }],
    [{ value: b64(`${KUBECONFIG_YAML}\n  : : [`) }],
    [{ value: b64(KUBECONFIG_TOKEN) }],
    [{ secretKeyRef: { namespace: 'kube-system', name: 'infra', key: 'raw' } }, { secrets: { 'kube-system/infra': { raw: broken } } }],
    [undefined, { env: { KUBEVIRT_KUBECONFIG: broken } }],
  ];
  for (const [kubeconfig, store] of cases) {
    const issues = await parseFail(withKubeconfig(kubeconfig), store as never);
    assert.ok(
      issues.some((i) => i.path === KC),
      JSON.stringify(issues.map((i) => i.message)),
    );
    const rendered = JSON.stringify(issues);
    for (const s of secretish) assert.not.ok(rendered.includes(s), `leaked ${s} in ${rendered}`);
  }
  // Decode errors (wrong JSON kinds, misspelt keys) must not echo it either.
  const decodeCases: Record<string, unknown>[] = [
    { auth: { kubeconfig: [KUBECONFIG_YAML] } },
    { auth: KUBECONFIG_YAML },
    { auth: { kubeConfigFile: { value: KUBECONFIG_BASE64 } } },
    { auth: { kubeconfig: { value: { yaml: KUBECONFIG_YAML } } } },
    { kubeconfig: [KUBECONFIG_YAML], sourceURL: 'http://x/i.img' },
  ];
  for (const edit of decodeCases) {
    const v = nestedSpec();
    delete v.cloudProviderSpec.auth;
    if ('kubeconfig' in edit) v.cloudProviderSpec = edit;
    else Object.assign(v.cloudProviderSpec, edit);
    const rendered = JSON.stringify(await parseFail(v));
    for (const s of secretish) assert.not.ok(rendered.includes(s), `leaked ${s} in ${rendered}`);
  }
});

test('clusterName: value, reference, env CLUSTER_ID override (when non-empty)', async () => {
  const v = nestedSpec();
  assert.is((await parseOk(v)).config.clusterName, 'cluster-name');
  assert.is((await parseOk(v, { env: { CLUSTER_ID: 'abc123' } })).config.clusterName, 'abc123');
  assert.is((await parseOk(v, { env: { CLUSTER_ID: '' } })).config.clusterName, 'cluster-name');
  v.cloudProviderSpec.clusterName = { secretKeyRef: { namespace: 'ns', name: 'ids', key: 'cluster' } };
  assert.is((await parseOk(v, { secrets: { 'ns/ids': { cluster: 'from-secret' } } })).config.clusterName, 'from-secret');
  expectIssue(
    await parseFail(v),
    'cloudProviderSpec.clusterName',
    `failed to get value of "clusterName" field: error retrieving secret 'ids' from namespace 'ns'`,
  );
  delete v.cloudProviderSpec.clusterName;
  assert.is((await parseOk(v)).config.clusterName, '');
});

test('projectID: value, reference, env PROJECT_ID override (when non-empty)', async () => {
  const v = nestedSpec();
  assert.is((await parseOk(v)).config.projectID, '');
  v.cloudProviderSpec.projectID = 'p1';
  assert.is((await parseOk(v)).config.projectID, 'p1');
  assert.is((await parseOk(v, { env: { PROJECT_ID: 'p2' } })).config.projectID, 'p2');
  assert.is((await parseOk(v, { env: { PROJECT_ID: '' } })).config.projectID, 'p1');
  v.cloudProviderSpec.projectID = { configMapKeyRef: { namespace: 'ns', name: 'ids', key: 'project' } };
  expectIssue(
    await parseFail(v),
    'cloudProviderSpec.projectID',
    `failed to get value of "projectID" field: error retrieving configmap 'ids'`,
  );
});

test.run();
