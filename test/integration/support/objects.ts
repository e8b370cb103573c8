/**
 * Fresh objects for integration tests (a new object per call, never shared).
 * The VirtualMachine comes from the project's builder with machine-controller's nominal
 * test case as input, so the KubeVirt schema test checks what we will actually apply.
 */
import { buildVirtualMachine } from '../../../shared/vm/build-vm.js';
import type { VirtualMachine } from '../../../shared/vm/types.js';
import { nominalConfig } from '../../unit/vm/factories.js';

/** The VirtualMachine our builder makes for machine-controller's nominal case. */
export function nominalVm(name: string, namespace: string): VirtualMachine {
  return buildVirtualMachine({
    machine: { name, namespace: 'kube-system' },
    config: nominalConfig(),
    namespace,
    machineDeploymentName: 'md-name',
    userdataSecretName: `${name}-userdata`,
    userdata: '#cloud-config\n',
    primaryAccessMode: 'ReadWriteMany',
  });
}

/** A DataVolume importing over HTTP, optionally owned by `owner`. */
export function dataVolume(
  name: string,
  namespace: string,
  owner?: { apiVersion: string; kind: string; name: string; uid: string },
): Record<string, unknown> {
  return {
    apiVersion: 'cdi.kubevirt.io/v1beta1',
    kind: 'DataVolume',
    metadata: {
      name,
      namespace,
      ...(owner ? { ownerReferences: [{ ...owner, controller: true, blockOwnerDeletion: true }] } : {}),
    },
    spec: {
      source: { http: { url: 'http://x.y.z.t/ubuntu.img' } },
      storage: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } },
    },
  };
}

/** A Machine with a kubevirt providerSpec, as a MachineSet would create it. */
export function machine(name: string, namespace: string, extra: { finalizers?: string[] } = {}): Record<string, unknown> {
  return {
    apiVersion: 'cluster.k8s.io/v1alpha1',
    kind: 'Machine',
    metadata: { name, namespace, ...(extra.finalizers ? { finalizers: extra.finalizers } : {}) },
    spec: {
      metadata: { name },
      providerSpec: {
        value: {
          cloudProvider: 'kubevirt',
          operatingSystem: 'ubuntu',
          cloudProviderSpec: { virtualMachine: { template: { cpus: '2', memory: '2Gi' } } },
        },
      },
      versions: { kubelet: '1.36.3' },
    },
  };
}

/** A MachineDeployment with `replicas` replicas around the Machine template above. */
export function machineDeployment(name: string, namespace: string, replicas: number): Record<string, unknown> {
  const template = machine(name, namespace) as { spec: unknown };
  return {
    apiVersion: 'cluster.k8s.io/v1alpha1',
    kind: 'MachineDeployment',
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { name } },
      template: { metadata: { labels: { name } }, spec: template.spec },
    },
  };
}
