/**
 * Every example MachineDeployment (machine-controller's and our flat 2019 ones) parses. Placeholders
 * (`<< NAME >>`) are substituted after YAML parsing, so a multi-line kubeconfig cannot break
 * the YAML quoting of the fixture.
 */
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { KUBECONFIG_BASE64, KUBECONFIG_YAML, parseOk } from './helpers.js';
import { exampleFiles, examplePath } from '../../support/examples.js';

const PLACEHOLDERS: Record<string, string> = {
  KUBECONFIG_BASE64,
  KUBECONFIG: KUBECONFIG_YAML,
  OS_NAME: 'ubuntu',
  KUBEVIRT_OS_IMAGE: 'ubuntu-22.04',
  MACHINE_NAME: 'kubevirt-e2e',
  YOUR_PUBLIC_KEY: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample test@example',
  KUBERNETES_VERSION: '1.33.4',
};

/** Replaces `<< NAME >>` in every string of a parsed document; unknown names get a filler. */
function substitute(node: unknown): unknown {
  if (typeof node === 'string') {
    return node.replace(/<<\s*([A-Z0-9_]+)\s*>>/g, (_, name: string) => PLACEHOLDERS[name] ?? `placeholder-${name.toLowerCase()}`);
  }
  if (Array.isArray(node)) return node.map(substitute);
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, substitute(v)]));
  }
  return node;
}

const files = exampleFiles();

test('the examples directory is present', () => {
  assert.ok(files.length >= 4, `expected the examples: ${files.join(', ')}`);
});

for (const file of files) {
  test(`example ${file} parses`, async () => {
    const doc = substitute(parse(readFileSync(examplePath(file), 'utf8'))) as any;
    const r = await parseOk(doc.spec.template.spec.providerSpec.value);
    assert.is(r.schema, file.includes('2019') ? 'flat' : 'nested');
    assert.is(r.config.operatingSystem, 'ubuntu');
    assert.is(r.config.kubeconfig, KUBECONFIG_YAML);
    assert.ok(r.config.vm.primaryDisk.image.osImage.startsWith('http://'));
    if (r.schema === 'flat') assert.ok(r.deprecations.length > 0);
  });
}

test.run();
