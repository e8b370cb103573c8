/**
 * Shared test helpers for the providerSpec tests: a small valid kubeconfig, a factory for a
 * fresh valid providerSpec value (never shared mutable fixtures), and a fake resolver.
 */
import * as assert from 'uvu/assert';
import { type ConfigVarResolver, resolverMessages } from '../../../shared/providerspec/configvar.js';
import { parseProviderSpec } from '../../../shared/providerspec/parse.js';
import type { MachineConfig, ParseResult, SpecIssue } from '../../../shared/providerspec/types.js';

/** Distinctive strings that must never appear in an error message. */
export const KUBECONFIG_SERVER = 'https://infra-api.example.test:6443';
export const KUBECONFIG_TOKEN = 'tok-SUPER-SECRET-9f3a';

/** A small valid kubeconfig as YAML text. */
export const KUBECONFIG_YAML = `apiVersion: v1
kind: Config
clusters:
- name: infra
  cluster:
    server: ${KUBECONFIG_SERVER}
contexts:
- name: infra-ctx
  context:
    cluster: infra
    user: admin
current-context: infra-ctx
users:
- name: admin
  user:
    token: ${KUBECONFIG_TOKEN}
`;
export const KUBECONFIG_JSON = JSON.stringify({
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [{ name: 'infra', cluster: { server: KUBECONFIG_SERVER } }],
  contexts: [{ name: 'infra-ctx', context: { cluster: 'infra', user: 'admin' } }],
  'current-context': 'infra-ctx',
  users: [{ name: 'admin', user: { token: KUBECONFIG_TOKEN } }],
});
export const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
export const KUBECONFIG_BASE64 = b64(KUBECONFIG_YAML);

/** A fresh, valid nested providerSpec value (nominal-case-like). */
export function nestedSpec(): Record<string, any> {
  return {
    sshPublicKeys: ['ssh-ed25519 AAAA test'],
    cloudProvider: 'kubevirt',
    cloudProviderSpec: {
      clusterName: 'cluster-name',
      auth: { kubeconfig: { value: KUBECONFIG_BASE64 } },
      virtualMachine: {
        template: {
          cpus: '2',
          memory: '2Gi',
          primaryDisk: { osImage: 'http://x.y.z.t/ubuntu.img', size: '10Gi', storageClassName: 'longhorn' },
        },
      },
    },
    operatingSystem: 'ubuntu',
    operatingSystemSpec: { disableAutoUpdate: false },
  };
}

/** A fresh, valid flat (2019) providerSpec value. */
export function flatSpec(): Record<string, any> {
  return {
    sshPublicKeys: ['ssh-ed25519 AAAA test'],
    cloudProvider: 'kubevirt',
    cloudProviderSpec: {
      storageClassName: 'kubermatic-fast',
      pvcSize: '10Gi',
      sourceURL: 'http://10.109.79.210/ubuntu.img',
      cpus: '1',
      memory: '2048M',
      kubeconfig: { value: KUBECONFIG_YAML },
      namespace: 'kube-system',
    },
    operatingSystem: 'ubuntu',
    operatingSystemSpec: { distUpgradeOnBoot: false },
  };
}

export interface FakeStore {
  secrets?: Record<string, Record<string, string>>;
  configMaps?: Record<string, Record<string, string>>;
  env?: Record<string, string>;
}

/** A resolver over in-memory Secrets/ConfigMaps (`ns/name` → data) that records its reads. */
export function fakeResolver(store: FakeStore = {}): ConfigVarResolver & { reads: string[] } {
  const reads: string[] = [];
  const read = (kind: 'secret' | 'configmap', map: FakeStore['secrets'], ns: string, name: string, key: string) => {
    reads.push(`${kind}:${ns}/${name}/${key}`);
    const data = map?.[`${ns}/${name}`];
    const get = kind === 'secret' ? resolverMessages.secretGet : resolverMessages.configMapGet;
    const noKey = kind === 'secret' ? resolverMessages.secretNoKey : resolverMessages.configMapNoKey;
    if (!data) return Promise.reject(new Error(get(name, ns, `${kind}s "${name}" not found`)));
    if (!(key in data)) return Promise.reject(new Error(noKey(name, ns, key)));
    return Promise.resolve(data[key]);
  };
  return {
    reads,
    secret: (ns, name, key) => read('secret', store.secrets, ns, name, key),
    configMap: (ns, name, key) => read('configmap', store.configMaps, ns, name, key),
    env: (name) => store.env?.[name],
  };
}

/** Parses and asserts success. */
export async function parseOk(value: unknown, store?: FakeStore): Promise<Extract<ParseResult, { ok: true }>> {
  const r = await parseProviderSpec(value, fakeResolver(store));
  if (!r.ok) assert.unreachable(`expected ok, got issues:\n${r.issues.map((i) => i.message).join('\n')}`);
  return r as Extract<ParseResult, { ok: true }>;
}

/** Parses and asserts failure; returns the issues. */
export async function parseFail(value: unknown, store?: FakeStore): Promise<SpecIssue[]> {
  const r = await parseProviderSpec(value, fakeResolver(store));
  if (r.ok) assert.unreachable('expected issues, parse succeeded');
  return (r as Extract<ParseResult, { ok: false }>).issues;
}

/** Asserts exactly one issue at `path` whose message contains `text`; returns it. */
export function expectIssue(issues: SpecIssue[], path: string, text: string): SpecIssue {
  const at = issues.filter((i) => i.path === path);
  assert.ok(at.length > 0, `no issue at ${path}; got:\n${issues.map((i) => i.message).join('\n')}`);
  const hit = at.find((i) => i.message.includes(text));
  assert.ok(hit, `issue at ${path} lacks "${text}":\n${at.map((i) => i.message).join('\n')}`);
  assert.ok(hit!.message.startsWith(`${path}: `), `message must name the path: ${hit!.message}`);
  return hit!;
}

/** The vm model of a successful parse. */
export async function vmOf(value: unknown, store?: FakeStore): Promise<MachineConfig['vm']> {
  return (await parseOk(value, store)).config.vm;
}
