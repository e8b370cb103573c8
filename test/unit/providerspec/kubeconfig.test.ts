import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeBase64Lenient, decodeBase64Strict, validateKubeconfig } from '../../../shared/providerspec/kubeconfig.js';
import { KUBECONFIG_JSON, KUBECONFIG_SERVER, KUBECONFIG_TOKEN, KUBECONFIG_YAML, b64 } from './helpers.js';

test('strict base64 like Go StdEncoding: padding required, newlines ignored', () => {
  assert.is(decodeBase64Strict(b64('hello')), 'hello');
  assert.is(decodeBase64Strict('aGVs\nbG8=\r\n'), 'hello');
  assert.is(decodeBase64Strict(''), '');
  for (const bad of ['aGVsbG8', 'aGVsbG8==', 'a===', 'ab=c', 'aGVs bG8=', 'aGVsbG8=aGVs', 'a-_b']) {
    assert.throws(() => decodeBase64Strict(bad), /illegal base64 data at input byte \d+/, bad);
  }
  assert.throws(() => decodeBase64Strict('ab!d'), /at input byte 2$/);
});

test('lenient base64: raw YAML/JSON passes through, base64 is decoded', () => {
  assert.is(decodeBase64Lenient(KUBECONFIG_YAML), KUBECONFIG_YAML);
  assert.is(decodeBase64Lenient(KUBECONFIG_JSON), KUBECONFIG_JSON);
  assert.is(decodeBase64Lenient(b64(KUBECONFIG_YAML)), KUBECONFIG_YAML);
});

test('validateKubeconfig accepts YAML and JSON kubeconfigs', () => {
  validateKubeconfig(KUBECONFIG_YAML);
  validateKubeconfig(KUBECONFIG_JSON);
});

const invalid: [string, string, RegExp][] = [
  [
    'garbage YAML',
    `clusters: [\n  server: ${KUBECONFIG_SERVER}\n token: ${KUBECONFIG_TOKEN}`,
    /not valid YAML or JSON at line \d+, column \d+/,
  ],
  ['a scalar', KUBECONFIG_TOKEN, /expected a YAML or JSON mapping/],
  ['no clusters', `users:\n- name: a\n  user: {token: ${KUBECONFIG_TOKEN}}\n`, /no configuration has been provided/],
  ['no current-context', KUBECONFIG_YAML.replace('current-context: infra-ctx', ''), /current-context is not set/],
  [
    'unknown context',
    KUBECONFIG_YAML.replace('current-context: infra-ctx', 'current-context: nope'),
    /names a context that does not exist/,
  ],
  ['unknown cluster', KUBECONFIG_YAML.replace('cluster: infra\n', 'cluster: other\n'), /names a cluster that does not exist/],
  ['no server', KUBECONFIG_YAML.replace(`server: ${KUBECONFIG_SERVER}`, 'insecure-skip-tls-verify: true'), /cluster has no server defined/],
];

for (const [name, text, expected] of invalid) {
  test(`validateKubeconfig rejects ${name} without echoing content`, () => {
    try {
      validateKubeconfig(text);
      assert.unreachable('should throw');
    } catch (err) {
      const message = (err as Error).message;
      assert.match(message, expected);
      for (const secret of [KUBECONFIG_SERVER, KUBECONFIG_TOKEN, 'infra-api', 'infra-ctx']) {
        assert.not.ok(message.includes(secret), `message leaks ${secret}: ${message}`);
      }
    }
  });
}

test.run();
