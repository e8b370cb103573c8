/**
 * What render rejects: invalid providerSpecs (exit 1, each issue naming its field path and the
 * bad value), invalid YAML (reported by position, never quoting the input), unsupported kinds
 * and apiVersions, empty input; and the command-line usage errors.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { UsageError, parseRenderArgs } from '../../../cli/render.js';
import { KC_SERVER, KC_TOKEN, docsOf, machineYaml, nestedValue, renderFails, renderYaml } from './support.js';

/** A nested value with the VM template's fields replaced. */
function withTemplate(fields: Record<string, unknown>): Record<string, any> {
  const v = nestedValue();
  Object.assign(v.cloudProviderSpec.virtualMachine.template, fields);
  return v;
}

test('a bad memory quantity names the field path and the value', async () => {
  const stderr = await renderFails(machineYaml(withTemplate({ memory: '2 GB' })));
  assert.match(stderr, 'Machine machines/worker-1: invalid providerSpec:');
  assert.match(
    stderr,
    /^ {2}cloudProviderSpec\.virtualMachine\.template\.memory: failed to configure resource requests and limits and vcpus: failed to parse memory requests: .*\(value: "2 GB"\)$/m,
  );
});

test('a bad cpus quantity, and every issue is reported at once', async () => {
  const v = withTemplate({ cpus: 'two', memory: '-1Gi' });
  v.operatingSystem = 'windows';
  const stderr = await renderFails(machineYaml(v));
  assert.match(stderr, /cloudProviderSpec\.virtualMachine\.template\.cpus: .*failed to parse cpu requests.*"two"/);
  assert.match(stderr, /cloudProviderSpec\.virtualMachine\.template\.memory: .*must not be negative.*"-1Gi"/);
  assert.match(stderr, /operatingSystem: invalid\/not supported operating system specified "windows"/);
});

test('an unsupported operating system is named (machine-controller wording)', async () => {
  const stderr = await renderFails(machineYaml(nestedValue({}, 'centos')));
  assert.match(stderr, /^ {2}operatingSystem: invalid\/not supported operating system specified "centos": os not supported$/m);
});

test('an unknown field is named with its full path', async () => {
  const v = nestedValue();
  v.cloudProviderSpec.virtualMachine.template.primaryDisk.sizee = '3Gi';
  const stderr = await renderFails(machineYaml(v));
  assert.match(stderr, /^ {2}cloudProviderSpec\.virtualMachine\.template\.primaryDisk\.sizee: json: unknown field "sizee"/m);
});

test('a path is printed once per issue, not twice', async () => {
  const stderr = await renderFails(machineYaml(nestedValue({}, 'centos')));
  assert.not.match(stderr, /operatingSystem: operatingSystem:/);
});

test('a flat (2019) spec with a bad pvcSize and an unknown dnsPolicy', async () => {
  const v = nestedValue();
  v.cloudProviderSpec = { sourceURL: 'http://x/u.img', pvcSize: '10 Gi', cpus: '1', memory: '1Gi', dnsPolicy: 'Sometimes' };
  const stderr = await renderFails(machineYaml(v));
  assert.match(stderr, /cloudProviderSpec\.pvcSize: failed to parse value of "pvcSize" field: .*"10 Gi"/);
  assert.match(stderr, /cloudProviderSpec\.dnsPolicy: failed to get dns policy: unknown dns policy: Sometimes/);
});

test('a spec mixing the flat and the nested schema', async () => {
  const stderr = await renderFails(machineYaml(nestedValue({ pvcSize: '10Gi' })));
  assert.match(stderr, /cloudProviderSpec mixes flat \(2019\) fields \[pvcSize\] with nested fields/);
});

test('a Machine without providerSpec.value', async () => {
  const stderr = await renderFails(machineYaml(null));
  assert.match(stderr, 'machine.spec.providerSpec.value is nil');
});

test('an invalid kubeconfig is reported without its content', async () => {
  const v = nestedValue();
  // Raw YAML where the nested schema wants base64: the decoder error must not quote it.
  v.cloudProviderSpec.auth.kubeconfig.value = `server: ${KC_SERVER}\ntoken: ${KC_TOKEN}\n`;
  const stderr = await renderFails(machineYaml(v));
  assert.match(stderr, /cloudProviderSpec\.auth\.kubeconfig: failed to decode base64 encoded kubeconfig/);
});

test('invalid YAML: exit 1, position given, source lines (here a kubeconfig) never quoted', async () => {
  const text = [
    'kind: Machine',
    'spec:',
    '  kubeconfig:',
    '    value: |',
    '      users:',
    '      - user:',
    `          token: ${KC_TOKEN}`,
    `     server: ${KC_SERVER}`,
    '',
  ].join('\n');
  const r = await renderYaml(text);
  assert.is(r.code, 1);
  assert.is(r.stdout, '');
  assert.match(r.stderr, /^invalid YAML at line 8, column \d+: All mapping items must start at the same column\n$/);
});

test('invalid YAML whose message would quote a token gives the error code only', async () => {
  const r = await renderYaml(`kind: Machine\nmetadata: {name: a}\nx: ]${KC_TOKEN}\n`);
  assert.is(r.code, 1);
  assert.match(r.stderr, /^invalid YAML at line 3, column \d+: [A-Z_]+/);
});

test('invalid YAML in a later document fails the whole input', async () => {
  const r = await renderYaml(`${machineYaml(nestedValue())}---\nkind: [\n`);
  assert.is(r.code, 1);
  assert.is(r.stdout, '');
  assert.match(r.stderr, /^invalid YAML at line \d+/);
});

test('an unsupported kind is reported; the other documents still render', async () => {
  const text = `${machineYaml(nestedValue())}---\n${stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } })}`;
  const r = await renderYaml(text);
  assert.is(r.code, 1);
  assert.match(r.stderr, /^document 2: unsupported kind "Pod": expected Machine, MachineSet or MachineDeployment$/m);
  assert.equal(
    docsOf(r.stdout).map((d) => d.kind),
    ['VirtualMachine', 'Secret'],
  );
});

test('a document without kind, a scalar document, a kind that is not a string', async () => {
  assert.match(await renderFails('metadata: {name: a}\n'), /document 1: unsupported kind unset/);
  assert.match(await renderFails('just a string\n'), /document 1: unsupported kind unset/);
  assert.match(await renderFails('kind: {a: 1}\n'), /document 1: unsupported kind of type object/);
});

test('a cluster-api (cluster.x-k8s.io) Machine is not mistaken for a machine-controller one', async () => {
  const text = machineYaml(nestedValue()).replace('cluster.k8s.io/v1alpha1', 'cluster.x-k8s.io/v1beta1');
  assert.match(
    await renderFails(text),
    /document 1: unsupported apiVersion "cluster.x-k8s.io\/v1beta1" for Machine: expected cluster.k8s.io\/v1alpha1/,
  );
});

test('a Machine without metadata renders under default names', async () => {
  const r = await renderYaml(stringify({ kind: 'Machine', spec: { providerSpec: { value: nestedValue() } } }));
  assert.is(r.code, 0, r.stderr);
  assert.is(docsOf(r.stdout)[0].metadata.name, 'machine');
});

test('empty input (or comments only) is an error, not a silent success', async () => {
  assert.match(await renderFails(''), 'no Machine, MachineSet or MachineDeployment in the input');
  assert.match(await renderFails('# nothing\n---\n'), 'no Machine, MachineSet or MachineDeployment in the input');
});

/** The UsageError message parseRenderArgs throws for `argv`. */
function usageError(argv: string[]): string {
  try {
    parseRenderArgs(argv, {});
  } catch (e) {
    assert.instance(e, UsageError);
    return (e as Error).message;
  }
  assert.unreachable(`no usage error for ${JSON.stringify(argv)}`);
  return '';
}

test('usage errors: unknown flag, missing values, two files', () => {
  assert.is(usageError(['--nope']), 'unknown flag --nope');
  assert.is(usageError(['--namespace']), '--namespace needs a value');
  assert.is(usageError(['--namespace', '']), '--namespace needs a value');
  assert.is(usageError(['--machine-name', '--show-secrets']), '--machine-name needs a value');
  assert.is(usageError(['a.yaml', 'b.yaml']), 'only one input file');
});

test('usage errors: --access-mode, --env and --secret syntax', () => {
  assert.match(
    usageError(['--access-mode', 'RWO']),
    /--access-mode must be one of ReadWriteOnce, ReadOnlyMany, ReadWriteMany, ReadWriteOncePod, got "RWO"/,
  );
  assert.is(usageError(['--env', 'NOEQUALS']), '--env expects NAME=VALUE');
  assert.is(usageError(['--env', '=x']), '--env expects NAME=VALUE');
  assert.match(usageError(['--secret', 'ns-name:key=v']), /--secret expects NS\/NAME:KEY=VALUE/);
});

test('usage errors never echo a credential given as a value', () => {
  assert.not.match(usageError(['--secret', `ns/name=${KC_TOKEN}`]), KC_TOKEN);
  assert.not.match(usageError(['--env', KC_TOKEN]), KC_TOKEN);
});

test('valid flags parse', () => {
  const f = parseRenderArgs(
    [
      'in.yaml',
      '--namespace',
      'n',
      '--machine-name',
      'm',
      '--machine-deployment',
      'md',
      '--userdata-secret',
      's',
      '--userdata',
      'u',
      '--access-mode',
      'ReadWriteMany',
      '--secret',
      'a/b:c=d=e',
      '--env',
      'X=1=2',
      '--with-ownership',
      '--show-secrets',
    ],
    { HOME: '/h' },
  );
  assert.equal(
    { ...f, env: undefined },
    {
      file: 'in.yaml',
      namespace: 'n',
      machineName: 'm',
      machineDeployment: 'md',
      userdataSecret: 's',
      userdataFile: 'u',
      accessMode: 'ReadWriteMany',
      secrets: { 'a/b': { c: 'd=e' } },
      env: undefined,
      withOwnership: true,
      showSecrets: true,
      // No image facts given: the image cache names its golden from the source alone.
      imageFacts: { content: {} },
    },
  );
  assert.equal(f.env, { HOME: '/h', X: '1=2' });
  assert.is(parseRenderArgs(['-'], {}).file, '-');
});

test.run();
