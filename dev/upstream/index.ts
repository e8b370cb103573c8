/**
 * Upstream artefacts (KubeVirt, CDI and Knative CRDs; machine-controller's KubeVirt fixtures)
 * from the Go modules pinned in versions.env. fetch.sh fetches and builds them once per
 * machine into a cache outside the repo (KMF_CACHE_DIR, default
 * ~/.cache/kubevirt-machine-functions/upstream/<key>) and prints that directory.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBuildScript } from './build-script.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fetchScript = path.join(here, 'fetch.sh');
const versionsEnv = path.join(here, 'versions.env');

export interface Upstream {
  /** The cache directory fetch.sh printed. */
  dir: string;
  /** Pinned versions keyed like versions.json: kubevirt, cdi, knativeEventing, knativeServing, machineController. */
  versions: Record<string, string>;
  /** `module@version` → the `h1:` sum `go mod download` reported. */
  sums: Record<string, string>;
  /** Absolute CRD directories: kubevirt, cdi, knative/serving, knative/eventing. */
  crdDirs: string[];
  /** machine-controller's pkg/cloudprovider/provider/kubevirt/testdata (expected VirtualMachines). */
  mcTestdata: string;
  /** Directory holding machine-controller's examples/kubevirt-machinedeployment.yaml. */
  mcExamples: string;
  /** machine-controller's e2e MachineDeployment (test/e2e/provisioning/testdata/machinedeployment-kubevirt.yaml). */
  mcE2e: string;
}

/** `KNATIVE_EVENTING` → `knativeEventing`: versions.env names as versions.json keys. */
function jsonKey(envName: string): string {
  return envName.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The versions pinned in versions.env, keyed like versions.json; builds nothing. */
export function pinnedVersions(): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const line of readFileSync(versionsEnv, 'utf8').split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) versions[jsonKey(m[1])] = m[2].trim();
  }
  return versions;
}

const LABELS: [key: string, label: string][] = [
  ['kubevirt', 'KubeVirt'],
  ['cdi', 'CDI'],
  ['knativeEventing', 'Knative Eventing'],
  ['knativeServing', 'Serving'],
  ['machineController', 'machine-controller'],
];

/**
 * One line naming the versions, e.g. "KubeVirt v1.8.2, CDI v1.65.0, Knative Eventing v0.49.2,
 * Serving v0.49.1, machine-controller v1.66.0". Accepts versions.json or versions.env keys.
 */
export function describeVersions(v: Record<string, string>): string {
  const byKey = new Map(Object.entries(v).map(([k, ver]) => [/^[A-Z0-9_]+$/.test(k) ? jsonKey(k) : k, ver]));
  const withEventing = byKey.has('knativeEventing');
  const parts: string[] = [];
  for (const [key, label] of LABELS) {
    const ver = byKey.get(key);
    if (ver === undefined) continue;
    parts.push(`${key === 'knativeServing' && !withEventing ? 'Knative Serving' : label} ${ver}`);
    byKey.delete(key);
  }
  for (const [key, ver] of byKey) parts.push(`${key} ${ver}`);
  return parts.join(', ');
}

let memo: Upstream | undefined;

/**
 * Runs fetch.sh once per process (seconds when cached; ~10 minutes the first time on a
 * machine, its progress on our stderr) and describes what it produced.
 * Throws an Error naming the step that failed.
 */
export function ensureUpstream(): Upstream {
  if (memo) return memo;
  const dir = runBuildScript('fetch.sh');
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(path.join(dir, 'versions.json'), 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${fetchScript}: cannot read ${dir}/versions.json: ${(err as Error).message}`, { cause: err });
  }
  const versions: Record<string, string> = {};
  for (const [k, v] of Object.entries(json)) if (typeof v === 'string') versions[k] = v;
  const sums = (json.sums ?? {}) as Record<string, string>;
  const mc = path.join(dir, 'machine-controller');
  memo = {
    dir,
    versions,
    sums,
    crdDirs: ['kubevirt', 'cdi', 'knative/serving', 'knative/eventing'].map((d) => path.join(dir, 'crds', d)),
    mcTestdata: path.join(mc, 'testdata'),
    mcExamples: path.join(mc, 'examples'),
    mcE2e: path.join(mc, 'e2e', 'machinedeployment-kubevirt.yaml'),
  };
  return memo;
}
