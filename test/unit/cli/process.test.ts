/**
 * The real command as a subprocess: `node bin/kubevirt-machine-functions.js render FILE` and
 * `... render -` with stdin, exit codes 0 / 1 / 2, stdout that parses as YAML, and no
 * kubeconfig content on either stream (runCli checks every run).
 *
 * bin/ prefers dist/cli/main.js when it has been built, which may predate this checkout, so the
 * checks against `bin` are the command's stable contract; behaviour that is new in this checkout
 * is also run through the sources (`--import tsx cli/main.ts`).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KUBECONFIG_BASE64, docsOf, exampleFiles, exampleYaml, machineYaml, nestedValue, runCli } from './support.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'kmf-render-cli-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** Writes `text` to a file in the test's temp dir and returns its path. */
function file(name: string, text: string): string {
  const p = path.join(tmp, name);
  writeFileSync(p, text);
  return p;
}

const kinds = (stdout: string): string[] => docsOf(stdout).map((d) => d.kind);

for (const example of ['kubevirt-machinedeployment.yaml', 'kubevirt-machinedeployment-2019-kubeconfig.yaml']) {
  test(`bin: render FILE and render - (stdin) for ${example}`, () => {
    const yaml = exampleYaml(example);
    const fromFile = runCli(['render', file(example, yaml)]);
    assert.is(fromFile.code, 0, fromFile.stderr);
    assert.equal(kinds(fromFile.stdout), ['VirtualMachine', 'Secret']);

    const fromStdin = runCli(['render', '-'], { stdin: yaml });
    assert.is(fromStdin.code, 0, fromStdin.stderr);
    assert.is(fromStdin.stdout, fromFile.stdout);
    assert.is(fromStdin.stderr, fromFile.stderr);
  });
}

test('bin: every example renders through the real command (stdin, no FILE argument)', () => {
  for (const example of exampleFiles()) {
    const r = runCli(['render'], { stdin: exampleYaml(example) });
    assert.is(r.code, 0, `${example}: ${r.stderr}`);
    assert.equal(kinds(r.stdout), ['VirtualMachine', 'Secret'], example);
  }
});

test('bin: an invalid providerSpec exits 1 with the field path on stderr', () => {
  const value = nestedValue();
  value.cloudProviderSpec.virtualMachine.template.memory = 'lots';
  const r = runCli(['render', file('bad.yaml', machineYaml(value))]);
  assert.is(r.code, 1);
  assert.is(r.stdout, '');
  assert.match(r.stderr, /cloudProviderSpec\.virtualMachine\.template\.memory: .*"lots"/);
});

test('bin: usage errors exit 2 with the usage text; --help exits 0', () => {
  const unknown = runCli(['render', '--frobnicate']);
  assert.is(unknown.code, 2);
  assert.match(unknown.stderr, /unknown flag --frobnicate/);
  assert.match(unknown.stderr, /Usage: kubevirt-machine-functions render/);

  const help = runCli(['render', '--help']);
  assert.is(help.code, 0);
  assert.match(help.stdout, /Usage: kubevirt-machine-functions render \[FILE\|-\]/);

  const noCommand = runCli(['bogus']);
  assert.is(noCommand.code, 2);
});

test('bin: the process environment is the controller environment (CLUSTER_ID, KUBEVIRT_KUBECONFIG)', () => {
  const value = nestedValue();
  delete value.cloudProviderSpec.auth;
  const r = runCli(['render', '-'], {
    stdin: machineYaml(value),
    env: { CLUSTER_ID: 'env-cluster', KUBEVIRT_KUBECONFIG: KUBECONFIG_BASE64 },
  });
  assert.is(r.code, 0, r.stderr);
  assert.is(docsOf(r.stdout)[0].metadata.labels['cluster.x-k8s.io/cluster-name'], 'env-cluster');
});

test('source: a missing input file or --userdata file exits 2 with a clean message', () => {
  const missing = runCli(['render', path.join(tmp, 'nope.yaml')], { entry: 'source' });
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /^cannot read .*nope\.yaml: ENOENT\n$/);

  const input = file('ok.yaml', machineYaml(nestedValue()));
  const noUserdata = runCli(['render', input, '--userdata', path.join(tmp, 'nope.cfg')], { entry: 'source' });
  assert.is(noUserdata.code, 2);
  assert.match(noUserdata.stderr, /^cannot read --userdata .*nope\.cfg: ENOENT\n$/);
});

test('source: invalid YAML, empty input and an unsupported kind exit 1', () => {
  const yaml = runCli(['render', '-'], { entry: 'source', stdin: 'kind: Machine\n  metadata: x\n' });
  assert.is(yaml.code, 1);
  assert.match(yaml.stderr, /^invalid YAML at line 1, column 7: Nested mappings are not allowed in compact mappings\n$/);

  const empty = runCli(['render', '-'], { entry: 'source', stdin: '' });
  assert.is(empty.code, 1);
  assert.match(empty.stderr, /no Machine, MachineSet or MachineDeployment in the input/);

  const pod = runCli(['render', '-'], { entry: 'source', stdin: 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n' });
  assert.is(pod.code, 1);
  assert.match(pod.stderr, /unsupported kind "Pod"/);
});

test('source: flag values are checked (--access-mode, a flag where a value belongs)', () => {
  const input = file('ok2.yaml', machineYaml(nestedValue()));
  const mode = runCli(['render', input, '--access-mode', 'rwx'], { entry: 'source' });
  assert.is(mode.code, 2);
  assert.match(mode.stderr, /--access-mode must be one of/);
  const missing = runCli(['render', input, '--namespace', '--show-secrets'], { entry: 'source' });
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /--namespace needs a value/);
});

test('source: the same output as bin for a valid input', () => {
  const input = file('same.yaml', exampleYaml('kubevirt-machinedeployment-2019-sourceurl.yaml'));
  const viaSource = runCli(['render', input, '--show-secrets', '--with-ownership'], { entry: 'source' });
  assert.is(viaSource.code, 0, viaSource.stderr);
  assert.equal(kinds(viaSource.stdout), ['VirtualMachine', 'Secret']);
});

test.run();
