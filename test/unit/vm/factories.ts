/**
 * Fresh test inputs and expectations for the VM builder. Every call returns new objects, so a
 * test may mutate what it gets without affecting another.
 */
import type { MachineConfig } from '../../../shared/providerspec/types.js';
import type { VirtualMachine, VmBuildInput } from '../../../shared/vm/types.js';

/** The MachineConfig machine-controller's nominal test providerSpec parses to (§10.1). */
export function nominalConfig(): MachineConfig {
  return {
    operatingSystem: 'ubuntu',
    operatingSystemSpec: { disableAutoUpdate: false, disableLocksmithD: true, disableUpdateEngine: false },
    sshPublicKeys: [],
    clusterName: 'cluster-name',
    projectID: '',
    vm: {
      resources: { cpu: '2', memory: '2Gi' },
      primaryDisk: {
        size: '10Gi',
        storageClassName: 'longhorn',
        storageAccessType: 'ReadWriteMany',
        storageTarget: 'storage',
        image: { osImage: 'http://x.y.z.t/ubuntu.img', source: '', pullMethod: 'node' },
      },
      secondaryDisks: [],
      networkMultiQueue: true,
      evictionStrategy: 'External',
      topologySpreadConstraints: [],
    },
  };
}

/** The builder input provider_test.go uses, around `config`. */
export function testInput(name: string, config: MachineConfig = nominalConfig()): VmBuildInput {
  return {
    machine: { name, namespace: 'kubevirt' },
    config,
    namespace: 'test-namespace',
    machineDeploymentName: 'md-name',
    userdataSecretName: 'udsn',
    userdata: 'fake-userdata',
    primaryAccessMode: config.vm.primaryDisk.storageAccessType ?? 'ReadWriteOnce',
  };
}

/** The six labels of every fixture VM. */
export function fixtureLabels(name: string): Record<string, string> {
  return {
    'cluster.x-k8s.io/cluster-name': 'cluster-name',
    'kubermatic.k8c.io/cluster-id': 'cluster-name',
    'kubermatic.k8c.io/project-id': '',
    'cluster.x-k8s.io/role': 'worker',
    'kubevirt.io/vm': name,
    md: 'md-name',
  };
}

/**
 * machine-controller's nominal output for a machine called `name`, written out from
 * reference §3.2 with the camelCase keys the CRD expects (the fixtures' lowercase
 * `topologyspreadconstraints` is a Go-decoder leniency, not the schema).
 */
export function nominalExpected(name: string): VirtualMachine {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name, namespace: 'test-namespace', labels: fixtureLabels(name) },
    spec: {
      runStrategy: 'Once',
      dataVolumeTemplates: [
        {
          metadata: { name },
          spec: {
            storage: {
              accessModes: ['ReadWriteMany'],
              resources: { requests: { storage: '10Gi' } },
              storageClassName: 'longhorn',
            },
            source: { http: { url: 'http://x.y.z.t/ubuntu.img' } },
          },
        },
      ],
      template: {
        metadata: {
          labels: fixtureLabels(name),
          annotations: {
            'kubevirt.io/allow-pod-bridge-network-live-migration': 'true',
            'ovn.kubernetes.io/allow_live_migration': 'true',
          },
        },
        spec: {
          affinity: {},
          domain: {
            devices: {
              disks: [
                { name: 'datavolumedisk', disk: { bus: 'virtio' } },
                { name: 'cloudinitdisk', disk: { bus: 'virtio' } },
              ],
              interfaces: [{ name: 'default', bridge: {} }],
              networkInterfaceMultiqueue: true,
            },
            resources: {
              requests: { cpu: '2', memory: '2Gi' },
              limits: { cpu: '2', memory: '2Gi' },
            },
          },
          networks: [{ name: 'default', pod: {} }],
          terminationGracePeriodSeconds: 30,
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'kubernetes.io/hostname',
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: { md: 'md-name' } },
            },
          ],
          volumes: [
            { name: 'datavolumedisk', dataVolume: { name } },
            { name: 'cloudinitdisk', cloudInitNoCloud: { secretRef: { name: 'udsn' } } },
          ],
          evictionStrategy: 'External',
        },
      },
    },
  };
}
