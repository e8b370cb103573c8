/**
 * Helpers for the `render` command tests: a test kubeconfig with distinctive credentials, the
 * example MachineDeployments (test/support/examples.ts; placeholders substituted), in-process
 * rendering that always checks for credential leaks, and the CLI as a subprocess.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { parseRenderArgs, render, type RenderResult } from '../../../cli/render.js';
import { examplePath, exampleFiles } from '../../support/examples.js';

export { exampleFiles };

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Distinctive strings of the test kubeconfig: neither may ever be printed. */
export const KC_SERVER = 'https://infra-render.example.test:7443';
export const KC_TOKEN = 'render-tok-7c1e5d-DO-NOT-PRINT';

export const KUBECONFIG_YAML = `apiVersion: v1
kind: Config
clusters:
- name: infra
  cluster:
    server: ${KC_SERVER}
contexts:
- name: infra
  context:
    cluster: infra
    user: admin
current-context: infra
users:
- name: admin
  user:
    token: ${KC_TOKEN}
`;
export const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
export const KUBECONFIG_BASE64 = b64(KUBECONFIG_YAML);

export const SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIRenderTestKey render@test';

const PLACEHOLDERS: Record<string, string> = {
  KUBECONFIG_BASE64,
  KUBECONFIG: KUBECONFIG_YAML,
  OS_NAME: 'ubuntu',
  KUBEVIRT_OS_IMAGE: 'ubuntu-22.04',
  MACHINE_NAME: 'kubevirt-e2e',
  YOUR_PUBLIC_KEY: SSH_KEY,
  KUBERNETES_VERSION: '1.33.4',
};

/** Replaces `<< NAME >>` in every string (after YAML parsing: a multi-line kubeconfig stays valid). */
function substitute(node: unknown): unknown {
  if (typeof node === 'string') {
    return node.replace(
      /<<\s*([A-Z0-9_]+)\s*>>/g,
      (_, name: string) => PLACEHOLDERS[name] ?? `placeholder-${name.toLowerCase().replaceAll('_', '-')}`,
    );
  }
  if (Array.isArray(node)) return node.map(substitute);
  if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, substitute(v)]));
  return node;
}

/** An example as an object, placeholders replaced (a fresh copy each call). */
export function loadExample(file: string): any {
  const text = readFileSync(examplePath(file), 'utf8');
  assert.ok(!/<<(?!\s*[A-Z0-9_]+\s*>>)/.test(text), `${file}: unexpected placeholder syntax`);
  return substitute(parse(text));
}

/** An example as YAML text, placeholders replaced. */
export const exampleYaml = (file: string): string => stringify(loadExample(file));

/** Fails when a credential of the test kubeconfig appears in `text`. */
export function assertNoKubeconfig(text: string, what = 'output'): void {
  for (const secret of [KC_TOKEN, KC_SERVER, 'infra-render.example.test', KUBECONFIG_BASE64.slice(0, 24)]) {
    assert.not.ok(text.includes(secret), `${what} contains kubeconfig content ${JSON.stringify(secret)}`);
  }
}

/** render() with the given flags and a controlled environment; checks stdout/stderr for leaks. */
export async function renderYaml(text: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RenderResult> {
  const r = await render(text, parseRenderArgs(args, env));
  assertNoKubeconfig(r.stdout, 'stdout');
  assertNoKubeconfig(r.stderr, 'stderr');
  return r;
}

/** The documents of a render's stdout as objects. */
export function docsOf(stdout: string): any[] {
  const docs = parseAllDocuments(stdout);
  for (const d of docs) assert.is(d.errors.length, 0, `stdout is not valid YAML: ${d.errors[0]?.message}`);
  return docs.map((d) => d.toJS());
}

/** Asserts a successful render of one object and returns its VirtualMachine and Secret. */
export function vmAndSecret(r: RenderResult): { vm: any; secret: any } {
  assert.is(r.code, 0, `render failed:\n${r.stderr}`);
  const docs = docsOf(r.stdout);
  assert.equal(
    docs.map((d) => d.kind),
    ['VirtualMachine', 'Secret'],
  );
  return { vm: docs[0], secret: docs[1] };
}

/** Renders and returns the VM and Secret. */
export async function renderOk(
  text: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<{ vm: any; secret: any; stderr: string }> {
  const r = await renderYaml(text, args, env);
  return { ...vmAndSecret(r), stderr: r.stderr };
}

/** Renders, expects exit code 1 and returns stderr. */
export async function renderFails(text: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const r = await renderYaml(text, args, env);
  assert.is(r.code, 1, `expected exit code 1, got ${r.code}; stdout:\n${r.stdout}`);
  return r.stderr;
}

/** A fresh valid nested providerSpec value; `cps` is merged over cloudProviderSpec's top level. */
export function nestedValue(cps: Record<string, unknown> = {}, os = 'ubuntu'): Record<string, any> {
  return {
    sshPublicKeys: [SSH_KEY],
    cloudProvider: 'kubevirt',
    cloudProviderSpec: {
      clusterName: 'cluster-a',
      auth: { kubeconfig: { value: KUBECONFIG_BASE64 } },
      virtualMachine: {
        template: {
          cpus: '2',
          memory: '4Gi',
          primaryDisk: { osImage: 'http://images.example.test/ubuntu.img', size: '20Gi', storageClassName: 'fast' },
        },
      },
      ...cps,
    },
    operatingSystem: os,
    operatingSystemSpec: { distUpgradeOnBoot: false },
  };
}

/** A Machine (namespace `machines`) with the given providerSpec value, as YAML. */
export function machineYaml(value: unknown, name = 'worker-1', extra: Record<string, unknown> = {}): string {
  return stringify({
    apiVersion: 'cluster.k8s.io/v1alpha1',
    kind: 'Machine',
    metadata: { name, namespace: 'machines', labels: { pool: 'a' }, ...extra },
    spec: { providerSpec: { value }, versions: { kubelet: '1.33.4' } },
  });
}

/** A MachineDeployment (namespace `machines`) with the given providerSpec value, as YAML. */
export function machineDeploymentYaml(value: unknown, name = 'pool-a'): string {
  return stringify({
    apiVersion: 'cluster.k8s.io/v1alpha1',
    kind: 'MachineDeployment',
    metadata: { name, namespace: 'machines' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { name } },
      template: { metadata: { labels: { name } }, spec: { providerSpec: { value }, versions: { kubelet: '1.33.4' } } },
    },
  });
}

/** The controller environment variables render reads; removed from subprocess environments. */
const CONTROLLER_ENV = ['KUBEVIRT_KUBECONFIG', 'CLUSTER_ID', 'PROJECT_ID', 'POD_NAMESPACE', 'INFRA_NAMESPACE'];

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI in a child Node (this one: the pinned Node 24). `bin` is the published entry
 * (which prefers dist/ when built); `source` runs cli/main.ts through tsx, i.e. this checkout.
 */
export function runCli(args: string[], opts: { entry?: 'bin' | 'source'; stdin?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  for (const name of CONTROLLER_ENV) if (!opts.env || !(name in opts.env)) delete env[name];
  const entry =
    (opts.entry ?? 'bin') === 'bin'
      ? [path.join(repoRoot, 'bin', 'kubevirt-machine-functions.js')]
      : ['--import', 'tsx', path.join(repoRoot, 'cli', 'main.ts')];
  const r = spawnSync(process.execPath, [...entry, ...args], {
    cwd: repoRoot,
    env,
    input: opts.stdin ?? '',
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  assertNoKubeconfig(r.stdout, 'CLI stdout');
  assertNoKubeconfig(r.stderr, 'CLI stderr');
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
