/**
 * A generated corpus of invalid providerSpecs: for each field, values machine-controller (or we)
 * refuse, written inline and, where the field takes a ConfigVar, taken from a Secret whose value
 * is a canary that must never appear in any message. Each case names the field the error must
 * name. Used by the parser's unit test and by the machine function's integration test.
 */

/** The marker every referenced bad value carries; no message may contain it. */
export const CANARY = 'kmf-canary-3b9e';

export interface BadSpec {
  name: string;
  /** The providerSpec value. */
  value: Record<string, any>;
  /** The path the error must name (an issue at this path or under it). */
  path: string;
  /** Secrets and ConfigMaps the spec references: `ns/name` → data. */
  secrets: Record<string, Record<string, string>>;
  configMaps: Record<string, Record<string, string>>;
  /** What the message must contain: the value (inline) or the reference (from a Secret). */
  mentions: string;
}

type Mutation = { field: string; path: string; set: (spec: any, v: unknown) => void; values: string[]; configVar: boolean };

const T = 'cloudProviderSpec.virtualMachine.template';
const VM = 'cloudProviderSpec.virtualMachine';
const tpl = (s: any) => s.cloudProviderSpec.virtualMachine.template;
const vmOf = (s: any) => s.cloudProviderSpec.virtualMachine;

/** Fields of the nested schema and values each must refuse. */
const NESTED: Mutation[] = [
  {
    field: 'cpus',
    path: `${T}.cpus`,
    set: (s, v) => (tpl(s).cpus = v),
    values: ['0', '-1', '1e1000000', 'abc', '5000', '2Xi'],
    configVar: true,
  },
  {
    field: 'memory',
    path: `${T}.memory`,
    set: (s, v) => (tpl(s).memory = v),
    values: ['0', 'Gi', '-1Gi', '100Ei', 'lots', '1e40'],
    configVar: true,
  },
  {
    field: 'size',
    path: `${T}.primaryDisk.size`,
    set: (s, v) => (tpl(s).primaryDisk.size = v),
    values: ['0', 'Gi', '-5Gi', '9Ei', 'ten'],
    configVar: false,
  },
  {
    field: 'storageClassName',
    path: `${T}.primaryDisk.storageClassName`,
    set: (s, v) => (tpl(s).primaryDisk.storageClassName = v),
    values: ['UPPER_case', 'has space', '-lead', 'trail-', 'x'.repeat(300), 'a..b'],
    configVar: false,
  },
  {
    field: 'storageAccessType',
    path: `${T}.primaryDisk.storageAccessType`,
    set: (s, v) => (tpl(s).primaryDisk.storageAccessType = v),
    values: ['Bogus', 'readwriteonce', 'RWO', 'ReadWrite'],
    configVar: false,
  },
  {
    field: 'osImage',
    path: `${T}.primaryDisk.osImage`,
    set: (s, v) => (tpl(s).primaryDisk.osImage = v),
    values: ['not a url', 'ftp://host/image.img', 'a/b/c', 'UPPER/Name', 'http://[::1', 'javascript:alert(1)', 'file:///etc/passwd'],
    configVar: false,
  },
  {
    field: 'clusterName',
    path: 'cloudProviderSpec.clusterName',
    set: (s, v) => (s.cloudProviderSpec.clusterName = v),
    values: ['Not A Label!', 'x'.repeat(64), '-lead', 'a/b'],
    configVar: true,
  },
  {
    field: 'nameservers',
    path: `${VM}.dnsConfig.nameservers[0]`,
    set: (s, v) => ((vmOf(s).dnsPolicy = 'None'), (vmOf(s).dnsConfig = { nameservers: [v] })),
    values: ['not-an-ip', '1.2.3', '::g', '8.8.8.8.8', 'dns.example.com'],
    configVar: false,
  },
  {
    field: 'maxSkew',
    path: 'cloudProviderSpec.topologySpreadConstraints[0].maxSkew',
    set: (s, v) =>
      (s.cloudProviderSpec.topologySpreadConstraints = [{ maxSkew: v, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' }]),
    values: ['-1', '0', 'x', '99999999999'],
    configVar: true,
  },
  {
    field: 'topologyKey',
    path: 'cloudProviderSpec.topologySpreadConstraints[0].topologyKey',
    set: (s, v) => (s.cloudProviderSpec.topologySpreadConstraints = [{ maxSkew: '1', topologyKey: v, whenUnsatisfiable: 'DoNotSchedule' }]),
    values: ['bad key!', 'a/b/c', '-x'],
    configVar: true,
  },
  {
    field: 'whenUnsatisfiable',
    path: 'cloudProviderSpec.topologySpreadConstraints[0].whenUnsatisfiable',
    set: (s, v) => (s.cloudProviderSpec.topologySpreadConstraints = [{ maxSkew: '1', topologyKey: 'zone', whenUnsatisfiable: v }]),
    values: ['Sometimes', 'donotschedule', 'Never'],
    configVar: true,
  },
  {
    field: 'nodeAffinity.key',
    path: 'cloudProviderSpec.affinity.nodeAffinityPreset.key',
    set: (s, v) => (s.cloudProviderSpec.affinity = { nodeAffinityPreset: { type: 'hard', key: v, values: ['a'] } }),
    values: ['bad key!', 'a/b/c'],
    configVar: true,
  },
  {
    field: 'nodeAffinity.type',
    path: 'cloudProviderSpec.affinity.nodeAffinityPreset.type',
    set: (s, v) => (s.cloudProviderSpec.affinity = { nodeAffinityPreset: { type: v, key: 'k', values: ['a'] } }),
    values: ['medium', 'always'],
    configVar: true,
  },
  {
    field: 'instancetype.kind',
    path: `${VM}.instancetype.kind`,
    set: (s, v) => (vmOf(s).instancetype = { name: 'it', kind: v }),
    values: ['Foo', 'VirtualMachine'],
    configVar: false,
  },
  {
    field: 'preference.kind',
    path: `${VM}.preference.kind`,
    set: (s, v) => (vmOf(s).preference = { name: 'p', kind: v }),
    values: ['Bar', 'Preference'],
    configVar: false,
  },
  {
    field: 'evictionStrategy',
    path: `${VM}.evictionStrategy`,
    set: (s, v) => (vmOf(s).evictionStrategy = v),
    values: ['Foo', 'livemigrate'],
    configVar: false,
  },
  {
    field: 'dnsPolicy',
    path: `${VM}.dnsPolicy`,
    set: (s, v) => (vmOf(s).dnsPolicy = v),
    values: ['Sometimes', 'clusterfirst'],
    configVar: true,
  },
  {
    field: 'enableNetworkMultiQueue',
    path: `${VM}.enableNetworkMultiQueue`,
    set: (s, v) => (vmOf(s).enableNetworkMultiQueue = v),
    values: ['nope', 'yes please'],
    configVar: true,
  },
  {
    field: 'secondaryDisks.size',
    path: `${T}.secondaryDisks[0].size`,
    set: (s, v) => (tpl(s).secondaryDisks = [{ size: v, storageClassName: 'longhorn' }]),
    values: ['0', '-1Gi', 'big'],
    configVar: false,
  },
  {
    field: 'secondaryDisks.storageClassName',
    path: `${T}.secondaryDisks[0].storageClassName`,
    set: (s, v) => (tpl(s).secondaryDisks = [{ size: '1Gi', storageClassName: v }]),
    values: ['Bad_Class', 'has space'],
    configVar: false,
  },
];

/** Fields of the flat 2019 schema. */
const FLAT: Mutation[] = [
  {
    field: 'flat cpus',
    path: 'cloudProviderSpec.cpus',
    set: (s, v) => (s.cloudProviderSpec.cpus = v),
    values: ['0', '-2', '1e1000000', 'many'],
    configVar: true,
  },
  {
    field: 'flat memory',
    path: 'cloudProviderSpec.memory',
    set: (s, v) => (s.cloudProviderSpec.memory = v),
    values: ['0', 'Gi', '100Ei'],
    configVar: true,
  },
  {
    field: 'flat pvcSize',
    path: 'cloudProviderSpec.pvcSize',
    set: (s, v) => (s.cloudProviderSpec.pvcSize = v),
    values: ['0', 'Gi', '-1Gi'],
    configVar: true,
  },
  {
    field: 'flat namespace',
    path: 'cloudProviderSpec.namespace',
    set: (s, v) => (s.cloudProviderSpec.namespace = v),
    values: ['Bad_NS', 'has space', 'x'.repeat(64)],
    configVar: true,
  },
  {
    field: 'flat sourceURL',
    path: 'cloudProviderSpec.sourceURL',
    set: (s, v) => (s.cloudProviderSpec.sourceURL = v),
    values: ['not a url', 'ftp://x/y.img'],
    configVar: true,
  },
  {
    field: 'flat storageClassName',
    path: 'cloudProviderSpec.storageClassName',
    set: (s, v) => (s.cloudProviderSpec.storageClassName = v),
    values: ['UPPER_case', 'x y'],
    configVar: true,
  },
];

const kubeconfigWith = (cluster: Record<string, unknown>, user: Record<string, unknown>) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server: 'https://infra.example.test:6443', ...cluster } }],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'x',
  });

/** Kubeconfigs a providerSpec may not carry, and what the message must name. */
const KUBECONFIGS: [name: string, text: string, mentions: string][] = [
  ['tokenFile', kubeconfigWith({}, { tokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token' }), 'tokenFile'],
  ['client-key file', kubeconfigWith({}, { 'client-certificate-data': 'eA==', 'client-key': '/etc/key.pem' }), 'client-key'],
  [
    'client-certificate file',
    kubeconfigWith({}, { 'client-certificate': '/etc/cert.pem', 'client-key-data': 'eA==' }),
    'client-certificate',
  ],
  ['certificate-authority file', kubeconfigWith({ 'certificate-authority': '/etc/ca.pem' }, { token: 't' }), 'certificate-authority'],
  ['exec plugin', kubeconfigWith({}, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'sh' } }), 'exec'],
  ['auth-provider plugin', kubeconfigWith({}, { 'auth-provider': { name: 'oidc' } }), 'auth-provider'],
  ['server not a URL', kubeconfigWith({ server: 'not a url' }, { token: 't' }), 'not an http(s) URL'],
  ['server with another scheme', kubeconfigWith({ server: 'file:///etc/passwd' }, { token: 't' }), 'not an http(s) URL'],
  ['no server', kubeconfigWith({ server: '' }, { token: 't' }), 'no server'],
  ['not YAML', '{{{', 'not valid YAML'],
];

/**
 * The corpus: every value of every field inline, and for ConfigVar fields also from a Secret in
 * `namespace` whose value is the bad value with the canary appended. `base` gives fresh valid
 * specs of each schema.
 */
export function badSpecs(base: { nested: () => any; flat: () => any }, namespace: string): BadSpec[] {
  const out: BadSpec[] = [];
  for (const [schema, mutations] of [
    ['nested', NESTED],
    ['flat', FLAT],
  ] as const) {
    for (const m of mutations) {
      m.values.forEach((v, i) => {
        const inline = base[schema]();
        if (schema === 'nested') {
          // cpus and memory are used only without an instancetype.
          delete inline.cloudProviderSpec.virtualMachine.instancetype;
          delete inline.cloudProviderSpec.virtualMachine.preference;
        }
        m.set(inline, v);
        out.push({
          name: `${m.field} = ${JSON.stringify(v).slice(0, 40)}`,
          value: inline,
          path: m.path,
          secrets: {},
          configMaps: {},
          mentions: v.slice(0, 40),
        });
        if (!m.configVar) return;
        const fromSecret = base[schema]();
        if (schema === 'nested') {
          delete fromSecret.cloudProviderSpec.virtualMachine.instancetype;
          delete fromSecret.cloudProviderSpec.virtualMachine.preference;
        }
        const secret = `bad-${m.field.replace(/[^a-z]/gi, '').toLowerCase()}-${i}`;
        m.set(fromSecret, { secretKeyRef: { namespace, name: secret, key: 'value' } });
        // The canary rides along inside the bad value (a value cannot be both valid and contain it).
        out.push({
          name: `${m.field} from secretKeyRef = ${JSON.stringify(v).slice(0, 40)}`,
          value: fromSecret,
          path: m.path,
          secrets: { [`${namespace}/${secret}`]: { value: `${v}${CANARY}` } },
          configMaps: {},
          mentions: `secretKeyRef ${namespace}/${secret}[value]`,
        });
        const fromConfigMap = base[schema]();
        if (schema === 'nested') {
          delete fromConfigMap.cloudProviderSpec.virtualMachine.instancetype;
          delete fromConfigMap.cloudProviderSpec.virtualMachine.preference;
        }
        m.set(fromConfigMap, { configMapKeyRef: { namespace, name: secret, key: 'value' } });
        out.push({
          name: `${m.field} from configMapKeyRef = ${JSON.stringify(v).slice(0, 40)}`,
          value: fromConfigMap,
          path: m.path,
          secrets: {},
          configMaps: { [`${namespace}/${secret}`]: { value: `${v}${CANARY}` } },
          mentions: `configMapKeyRef ${namespace}/${secret}[value]`,
        });
      });
    }
  }
  for (const [name, text, mentions] of KUBECONFIGS) {
    const inline = base.nested();
    inline.cloudProviderSpec.auth.kubeconfig = { value: Buffer.from(text).toString('base64') };
    out.push({
      name: `kubeconfig: ${name}`,
      value: inline,
      path: 'cloudProviderSpec.auth.kubeconfig',
      secrets: {},
      configMaps: {},
      mentions,
    });
    const fromSecret = base.nested();
    fromSecret.cloudProviderSpec.auth.kubeconfig = { secretKeyRef: { namespace, name: 'bad-kubeconfig', key: 'kubeconfig' } };
    out.push({
      name: `kubeconfig from secretKeyRef: ${name}`,
      value: fromSecret,
      path: 'cloudProviderSpec.auth.kubeconfig',
      secrets: { [`${namespace}/bad-kubeconfig`]: { kubeconfig: text } },
      configMaps: {},
      mentions,
    });
  }
  return out;
}
