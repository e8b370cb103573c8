/**
 * machine-controller's `TestNewVirtualMachine` cases (reference machine-controller-kubevirt.md
 * §10.1/§10.2): the providerSpec each case feeds to getConfig, and, for the three cases whose
 * fixtures are not on our shelf, the expected VM written out from the reference text.
 */
import { offlineResolver } from '../../../shared/providerspec/configvar.js';
import { parseProviderSpec } from '../../../shared/providerspec/parse.js';
import { buildVirtualMachine } from '../../../shared/vm/build-vm.js';
import type { VirtualMachine } from '../../../shared/vm/types.js';
import { nominalExpected, testInput } from './factories.js';

/** The knobs of provider_test.go's `kubevirtProviderSpecConf` that the current cases use. */
export interface CaseConf {
  osImageDV?: string;
  storageTarget?: string;
  topologySpreadConstraint?: boolean;
  affinity?: boolean;
  affinityValues?: boolean;
  secondaryDisks?: boolean;
  osImageSource?: string;
  osImageSourceURL?: string;
  pullMethod?: string;
  providerNetwork?: boolean;
  extraHeadersSet?: boolean;
  evictStrategy?: boolean;
  /** `vcpus.cores` instead of `cpus` (dedicated-vcpus, 99a4aa553). */
  vcpuCores?: number;
}

/** All 15 current cases, by name (= fixture file name = Machine name). */
export const CASES: Record<string, CaseConf> = {
  'nominal-case': {},
  'extra-headers-set': { extraHeadersSet: true },
  'kubeovn-provider-network': { providerNetwork: true },
  topologyspreadconstraints: { topologySpreadConstraint: true },
  affinity: { affinity: true, affinityValues: true },
  'affinity-no-values': { affinity: true },
  'secondary-disks': { secondaryDisks: true },
  'custom-local-disk': { osImageDV: 'ns/dvname' },
  'use-storage-as-storage-target': { storageTarget: 'storage' },
  'http-image-source': { osImageSource: 'http' },
  'registry-image-source': { osImageSource: 'registry', osImageSourceURL: 'docker://x.y.z.t/ubuntu.img:latest' },
  'registry-image-source-pod': {
    osImageSource: 'registry',
    osImageSourceURL: 'docker://x.y.z.t/ubuntu.img:latest',
    pullMethod: 'pod',
  },
  'pvc-image-source': { osImageSource: 'pvc', osImageDV: 'ns/dvname' },
  'eviction-strategy-live-migrate': { evictStrategy: true },
  'dedicated-vcpus': { vcpuCores: 2 },
};

/**
 * provider_test.go's kubeconfig: base64 of a JSON kubeconfig for https://95.216.20.146:6443
 * with empty credentials (copied verbatim, so the parser sees the same bytes getConfig did).
 */
export const TEST_KUBECONFIG_BASE64 =
  'eyJhcGlWZXJzaW9uIjoidjEiLCJjbHVzdGVycyI6W3siY2x1c3RlciI6eyJjZXJ0aWZpY2F0ZS1hdXRob3JpdHktZGF0YSI6IiIsInNlcnZlciI6Imh0dHBzOi8vOTUuMjE2LjIwLjE0Njo2NDQzIn0sIm5hbWUiOiJrdWJlcm5ldGVzIn1dLCJjb250ZXh0cyI6W3siY29udGV4dCI6eyJjbHVzdGVyIjoia3ViZXJuZXRlcyIsIm5hbWVzcGFjZSI6Imt1YmUtc3lzdGVtIiwidXNlciI6Imt1YmVybmV0ZXMtYWRtaW4ifSwibmFtZSI6Imt1YmVybmV0ZXMtYWRtaW5Aa3ViZXJuZXRlcyJ9XSwiY3VycmVudC1jb250ZXh0Ijoia3ViZXJuZXRlcy1hZG1pbkBrdWJlcm5ldGVzIiwia2luZCI6IkNvbmZpZyIsInByZWZlcmVuY2VzIjp7fSwidXNlcnMiOlt7Im5hbWUiOiJrdWJlcm5ldGVzLWFkbWluIiwidXNlciI6eyJjbGllbnQtY2VydGlmaWNhdGUtZGF0YSI6IiIsImNsaWVudC1rZXktZGF0YSI6IiJ9fV19';

/** The providerSpec `value` provider_test.go's template renders for `conf`. */
export function providerSpecFor(conf: CaseConf): Record<string, unknown> {
  const primaryDisk: Record<string, unknown> = {
    storageAccessType: 'ReadWriteMany',
    osImage: conf.osImageDV ?? conf.osImageSourceURL ?? 'http://x.y.z.t/ubuntu.img',
    size: '10Gi',
    storageClassName: 'longhorn',
  };
  if (conf.extraHeadersSet) primaryDisk.extraHeaders = ['authorization: Basic bXE6cGFzc3dvcmQ='];
  if (conf.storageTarget) primaryDisk.storageTarget = conf.storageTarget;
  if (conf.pullMethod) primaryDisk.pullMethod = conf.pullMethod;
  if (conf.osImageSource) primaryDisk.source = conf.osImageSource;

  const template: Record<string, unknown> = { memory: '2Gi', primaryDisk };
  if (conf.vcpuCores) template.vcpus = { cores: conf.vcpuCores };
  else template.cpus = '2';
  if (conf.secondaryDisks) {
    template.secondaryDisks = [
      { size: '20Gi', storageAccessType: 'ReadWriteMany', storageClassName: 'longhorn2' },
      { size: '30Gi', storageAccessType: 'ReadWriteMany', storageClassName: 'longhorn3' },
    ];
  }

  const virtualMachine: Record<string, unknown> = { template };
  if (conf.evictStrategy) virtualMachine.evictionStrategy = 'LiveMigrate';
  if (conf.providerNetwork) {
    virtualMachine.providerNetwork = { name: 'kubeovn', vpc: { name: 'test-vpc', subnet: { name: 'test-subnet' } } };
  }

  const cloudProviderSpec: Record<string, unknown> = {
    clusterName: 'cluster-name',
    auth: { kubeconfig: TEST_KUBECONFIG_BASE64 },
    virtualMachine,
  };
  if (conf.topologySpreadConstraint) {
    cloudProviderSpec.topologySpreadConstraints = [
      { maxSkew: '2', topologyKey: 'key1', whenUnsatisfiable: 'DoNotSchedule' },
      { maxSkew: '3', topologyKey: 'key2', whenUnsatisfiable: 'ScheduleAnyway' },
    ];
  }
  if (conf.affinity) {
    const nodeAffinityPreset: Record<string, unknown> = { type: 'hard', key: 'key1' };
    if (conf.affinityValues) nodeAffinityPreset.values = ['foo1', 'foo2'];
    cloudProviderSpec.affinity = { nodeAffinityPreset };
  }

  return {
    cloudProvider: 'kubevirt',
    cloudProviderSpec,
    operatingSystem: 'ubuntu',
    operatingSystemSpec: { disableAutoUpdate: false, disableLocksmithD: true, disableUpdateEngine: false },
  };
}

/**
 * provider_test.go's flow for case `name`: getConfig on the case's providerSpec, then
 * newVirtualMachine. `namespace` replaces provider_test.go's infra namespace (test-namespace),
 * e.g. to create the VM on a cluster.
 */
export async function buildCase(name: string, namespace?: string): Promise<VirtualMachine> {
  const conf = CASES[name];
  if (!conf) throw new Error(`no machine-controller inputs known for case ${name}`);
  // No env: CLUSTER_ID / PROJECT_ID / KUBEVIRT_KUBECONFIG must not leak into the result.
  const result = await parseProviderSpec(providerSpecFor(conf), offlineResolver({}));
  if (!result.ok) {
    throw new Error(`${name}: parse failed:\n${result.issues.map((i) => i.message).join('\n')}`);
  }
  const { config } = result;
  const mode = config.vm.primaryDisk.storageAccessType;
  if (!mode) throw new Error(`${name}: the test specs set storageAccessType; got none`);
  const input = testInput(name, config);
  return buildVirtualMachine({
    // Same identity and context as provider_test.go (infra namespace forced to test-namespace).
    ...input,
    namespace: namespace ?? input.namespace,
    primaryAccessMode: mode,
    secondaryAccessModes: config.vm.secondaryDisks.map((d) => d.storageAccessType ?? mode),
  });
}

/**
 * Expected output of three cases written out by hand (machine-controller's provider semantics,
 * §10.2 and §3.2 for the secondary-disk quirks); the golden test also compares them with
 * machine-controller's own fixtures, so a misreading shows twice.
 */
export const EXPLICIT_EXPECTED: Record<string, () => VirtualMachine> = {
  'extra-headers-set': () => {
    const vm = nominalExpected('extra-headers-set');
    vm.spec.dataVolumeTemplates[0]!.spec.source = {
      http: { url: 'http://x.y.z.t/ubuntu.img', extraHeaders: ['authorization: Basic bXE6cGFzc3dvcmQ='] },
    };
    return vm;
  },
  'secondary-disks': () => {
    const name = 'secondary-disks';
    const vm = nominalExpected(name);
    const spec = vm.spec.template.spec;
    for (const [i, size, storageClassName] of [
      [0, '20Gi', 'longhorn2'],
      [1, '30Gi', 'longhorn3'],
    ] as const) {
      const disk = `${name}-secondarydisk${i}`;
      vm.spec.dataVolumeTemplates.push({
        metadata: { name: disk },
        spec: {
          // Always pvc, the primary's access mode, the OS image as source (machine-controller quirks).
          pvc: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: size } }, storageClassName },
          source: { http: { url: 'http://x.y.z.t/ubuntu.img' } },
        },
      });
      spec.domain.devices.disks.push({ name: disk, disk: { bus: 'virtio' } });
      spec.volumes.push({ name: disk, dataVolume: { name: disk } });
    }
    return vm;
  },
  'dedicated-vcpus': () => {
    const vm = nominalExpected('dedicated-vcpus');
    const domain = vm.spec.template.spec.domain;
    domain.cpu = { cores: 2 };
    domain.resources = { requests: { memory: '2Gi' }, limits: { memory: '2Gi' } };
    return vm;
  },
};
