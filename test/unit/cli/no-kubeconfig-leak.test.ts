/**
 * The infra kubeconfig never reaches stdout or stderr: not in rendered objects (even with
 * --show-secrets), not in deprecations or warnings, not in validation errors about the
 * kubeconfig itself, not in YAML syntax errors next to it. renderYaml/runCli check every run
 * in this folder; these cases aim at the paths most likely to leak.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import {
  KC_SERVER,
  KC_TOKEN,
  KUBECONFIG_BASE64,
  KUBECONFIG_YAML,
  assertNoKubeconfig,
  exampleFiles,
  exampleYaml,
  loadExample,
  machineYaml,
  nestedValue,
  renderYaml,
} from './support.js';

const ALL_FLAGS = ['--show-secrets', '--with-ownership', '--machine-name', 'm-1', '--machine-deployment', 'md-1', '--namespace', 'vms'];

test('the leak check itself catches the token, the server and the base64 form', () => {
  for (const text of [KUBECONFIG_YAML, `x ${KC_TOKEN} y`, `server=${KC_SERVER}`, KUBECONFIG_BASE64]) {
    let caught = false;
    try {
      assertNoKubeconfig(text);
    } catch {
      caught = true; // uvu's assert.throws rethrows assertion errors, hence by hand
    }
    assert.ok(caught, `not caught: ${text.slice(0, 20)}`);
  }
});

for (const file of exampleFiles()) {
  test(`${file} with every output flag: no kubeconfig content`, async () => {
    const r = await renderYaml(exampleYaml(file), ALL_FLAGS);
    assert.is(r.code, 0, r.stderr);
  });
}

test('a kubeconfig from --secret and from --env, with --show-secrets', async () => {
  const value = nestedValue({ auth: { kubeconfig: { secretKeyRef: { namespace: 'a', name: 'b', key: 'c' } } } });
  assert.is((await renderYaml(machineYaml(value), ['--secret', `a/b:c=${KUBECONFIG_YAML}`, '--show-secrets'])).code, 0);
  assert.is((await renderYaml(machineYaml(value), ['--env', `KUBEVIRT_KUBECONFIG=${KUBECONFIG_YAML}`, '--show-secrets'])).code, 0);
});

test('errors about the kubeconfig field do not quote it', async () => {
  const cases: Record<string, unknown>[] = [
    // raw YAML where base64 is required
    { auth: { kubeconfig: { value: KUBECONFIG_YAML } } },
    // a plain string instead of the ConfigVar object is accepted like Go; the same raw YAML
    { auth: { kubeconfig: KUBECONFIG_YAML } },
    // an unknown field next to the kubeconfig
    { auth: { kubeconfig: { value: KUBECONFIG_BASE64 }, token: KC_TOKEN } },
    // the wrong type
    { auth: { kubeconfig: [KUBECONFIG_YAML] } },
    // base64 of something that is not a kubeconfig but contains the credentials
    { auth: { kubeconfig: { value: Buffer.from(`token: ${KC_TOKEN}\nserver: ${KC_SERVER}\n`).toString('base64') } } },
  ];
  for (const cps of cases) {
    const r = await renderYaml(machineYaml(nestedValue(cps)));
    assert.is(r.code, 1, `expected a failure for ${Object.keys(cps)}`);
    assert.match(r.stderr, /cloudProviderSpec\.auth/);
  }
});

test('flat spec: config and kubeconfig both set, and a kubeconfig that does not parse', async () => {
  const md = loadExample('kubevirt-machinedeployment-2019-kubeconfig.yaml');
  const cps = md.spec.template.spec.providerSpec.value.cloudProviderSpec;
  cps.config = { value: KUBECONFIG_YAML };
  let r = await renderYaml(stringify(md));
  assert.is(r.code, 1);
  assert.match(r.stderr, /cloudProviderSpec\.config: fields "config" and "kubeconfig" are the same setting/);

  delete cps.config;
  cps.kubeconfig = { value: `${KUBECONFIG_YAML}\n  bad: [indent` };
  r = await renderYaml(stringify(md));
  assert.is(r.code, 1);
  assert.match(r.stderr, /cloudProviderSpec\.kubeconfig: failed to decode kubeconfig: not valid YAML or JSON at line/);
});

test('a YAML syntax error inside a pasted kubeconfig is reported by position only', async () => {
  const lines = KUBECONFIG_YAML.trimEnd()
    .split('\n')
    .map((l) => `              ${l}`);
  lines[lines.length - 1] = `           ${lines[lines.length - 1].trim()}`; // the token line, mis-indented
  const text = [
    'apiVersion: cluster.k8s.io/v1alpha1',
    'kind: Machine',
    'metadata: {name: w}',
    'spec:',
    '  providerSpec:',
    '    value:',
    '      cloudProvider: kubevirt',
    '      cloudProviderSpec:',
    '        auth:',
    '          kubeconfig:',
    '            value: |',
    ...lines,
    '',
  ].join('\n');
  assert.ok(text.includes(KC_TOKEN) && text.includes(KC_SERVER), 'the input holds the kubeconfig');
  const r = await renderYaml(text);
  assert.is(r.code, 1);
  assert.match(r.stderr, /^invalid YAML at line 27, column \d+: [^\n]+\n$/, r.stderr);
});

test.run();
