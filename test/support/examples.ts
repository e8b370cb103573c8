/**
 * The example MachineDeployments the tests render and provision: machine-controller's own
 * (its `examples/` and e2e testdata, from the pinned k8c.io/machine-controller module that
 * dev/upstream fetches) and our flat 2019-schema inputs (test/fixtures/flat-2019), under
 * one set of names.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureUpstream } from '../../dev/upstream/index.js';

const flatDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'flat-2019');

/** Example name → absolute path. */
function examplePaths(): Record<string, string> {
  const up = ensureUpstream();
  const flat = readdirSync(flatDir).filter((f) => f.endsWith('.yaml'));
  return {
    'kubevirt-machinedeployment.yaml': path.join(up.mcExamples, 'kubevirt-machinedeployment.yaml'),
    'e2e-machinedeployment-kubevirt.yaml': up.mcE2e,
    ...Object.fromEntries(flat.map((f) => [f, path.join(flatDir, f)])),
  };
}

/** Every example's name, sorted. */
export function exampleFiles(): string[] {
  return Object.keys(examplePaths()).sort();
}

/** Where the example called `name` is. */
export function examplePath(name: string): string {
  const p = examplePaths()[name];
  if (!p) throw new Error(`no example called ${name}`);
  return p;
}
