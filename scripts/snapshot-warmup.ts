/**
 * Runs, while a function's startup snapshot is built, the pure paths every function takes on
 * its first event: ApiServerSource payload validation, providerSpec parsing (zod, kubeconfig
 * YAML) and VirtualMachine building. Their code is then compiled, and zod's schemas prepared,
 * inside the snapshot instead of during the first request.
 *
 * Nothing here may leave state that must differ between instances started from one snapshot:
 * no CloudEvents or other random ids (a uuid entropy pool captured in the snapshot would repeat
 * in every instance), no clients, no filled caches, no timers. No I/O at all.
 */
import { parseApiServerEvent } from '../events/apiserver.js';
import { parseProviderSpec } from '../shared/providerspec/parse.js';
import { buildVirtualMachine } from '../shared/vm/build-vm.js';
import type { ConfigVarResolver } from '../shared/providerspec/configvar.js';

const KUBECONFIG = [
  'apiVersion: v1',
  'kind: Config',
  'clusters: [{name: infra, cluster: {server: "https://infra.invalid:6443"}}]',
  'contexts: [{name: infra, context: {cluster: infra, user: warmup}}]',
  'current-context: infra',
  'users: [{name: warmup, user: {token: not-a-token}}]',
].join('\n');

const providerSpec = () => ({
  sshPublicKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIWarmUpWarmUpWarmUpWarmUpWarmUpWarmUpWarmUpWa warmup'],
  cloudProvider: 'kubevirt',
  cloudProviderSpec: {
    auth: { kubeconfig: { value: Buffer.from(KUBECONFIG).toString('base64') } },
    clusterName: 'warmup',
    virtualMachine: {
      template: {
        cpus: '2',
        memory: '2Gi',
        primaryDisk: { osImage: 'http://image.invalid/disk.img', size: '10Gi', storageClassName: 'sc', storageAccessType: 'ReadWriteOnce' },
      },
    },
  },
  operatingSystem: 'ubuntu',
  operatingSystemSpec: { distUpgradeOnBoot: false },
});

const noReferences: ConfigVarResolver = {
  secret: () => Promise.reject(new Error('warm-up resolves no references')),
  configMap: () => Promise.reject(new Error('warm-up resolves no references')),
  env: () => undefined,
};

export async function warmUp(): Promise<void> {
  // A stack trace makes V8 index the bundle's line ends (a scan of the whole ~1.5 MB script),
  // kept in the snapshot: otherwise the first stack trace at start pays it — depd, loaded by
  // express's router, captures one for every module that declares deprecations.
  void new Error('snapshot warm-up').stack;
  const machine = {
    apiVersion: 'cluster.k8s.io/v1alpha1',
    kind: 'Machine',
    metadata: { name: 'warmup', namespace: 'warmup', uid: '00000000-0000-0000-0000-000000000000', resourceVersion: '1' },
    spec: { providerSpec: { value: providerSpec() } },
  };
  parseApiServerEvent(
    { id: 'warmup', source: 'warmup', specversion: '1.0', type: 'dev.knative.apiserver.resource.add', data: machine },
    { apiVersion: machine.apiVersion, kind: machine.kind },
  );
  const parsed = await parseProviderSpec(providerSpec(), noReferences);
  if (!parsed.ok) throw new Error(`snapshot warm-up: its providerSpec no longer parses: ${parsed.issues.map((i) => i.message).join('; ')}`);
  buildVirtualMachine({
    machine: { name: 'warmup', namespace: 'warmup', uid: machine.metadata.uid },
    config: parsed.config,
    namespace: 'warmup',
    userdataSecretName: 'userdata-warmup',
    userdata: '#cloud-config\n',
    primaryAccessMode: 'ReadWriteOnce',
  });
}
