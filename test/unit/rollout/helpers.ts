/** Factories for rollout tests: minimal valid objects, overridable. */
import type { Machine } from '../../../shared/machine/types.js';
import type { IntOrString, MachineDeployment, MachineSet } from '../../../shared/rollout/types.js';

export const T0 = Date.parse('2026-01-01T00:00:00Z');
export const iso = (ms: number) => new Date(ms).toISOString();
export const DAY = 86_400_000;

export function template(image = 'ubuntu-22.04'): NonNullable<MachineDeployment['spec']['template']> {
  return {
    metadata: { labels: { app: 'workers' } },
    spec: { providerSpec: { value: { cloudProvider: 'kubevirt', cloudProviderSpec: { image } } }, versions: { kubelet: '1.30.0' } },
  };
}

export function md(
  opts: {
    replicas?: number;
    maxSurge?: IntOrString;
    maxUnavailable?: IntOrString;
    image?: string;
    paused?: boolean;
    generation?: number;
  } = {},
): MachineDeployment {
  const d: MachineDeployment = {
    apiVersion: 'cluster.k8s.io/v1alpha1',
    kind: 'MachineDeployment',
    metadata: { name: 'workers', namespace: 'kube-system', uid: 'md-uid', generation: opts.generation ?? 1 },
    spec: { selector: { matchLabels: { app: 'workers' } }, template: template(opts.image) },
  };
  if (opts.replicas !== undefined) d.spec.replicas = opts.replicas;
  if (opts.maxSurge !== undefined || opts.maxUnavailable !== undefined) {
    d.spec.strategy = { type: 'RollingUpdate', rollingUpdate: {} };
    if (opts.maxSurge !== undefined) d.spec.strategy.rollingUpdate!.maxSurge = opts.maxSurge;
    if (opts.maxUnavailable !== undefined) d.spec.strategy.rollingUpdate!.maxUnavailable = opts.maxUnavailable;
  }
  if (opts.paused !== undefined) d.spec.paused = opts.paused;
  return d;
}

export function ms(
  name: string,
  replicas: number,
  opts: Partial<{ uid: string; createdAt: number; labels: Record<string, string>; deletePolicy: string; minReadySeconds: number }> = {},
): MachineSet {
  const labels = opts.labels ?? { app: 'workers', 'machine-template-hash': name };
  const set: MachineSet = {
    apiVersion: 'cluster.k8s.io/v1alpha1',
    kind: 'MachineSet',
    metadata: { name, namespace: 'kube-system', uid: opts.uid ?? `${name}-uid`, creationTimestamp: iso(opts.createdAt ?? T0), labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { providerSpec: { value: {} } } },
    },
  };
  if (opts.deletePolicy !== undefined) set.spec.deletePolicy = opts.deletePolicy;
  if (opts.minReadySeconds !== undefined) set.spec.minReadySeconds = opts.minReadySeconds;
  return set;
}

export function machine(
  name: string,
  owner: MachineSet | undefined,
  opts: Partial<{
    createdAt: number;
    phase: 'Ready' | 'Provisioning';
    deleting: boolean;
    annotations: Record<string, string>;
    errorReason: string;
    labels: Record<string, string>;
  }> = {},
): Machine {
  const m: Machine = {
    apiVersion: 'cluster.k8s.io/v1alpha1',
    kind: 'Machine',
    metadata: {
      name,
      namespace: 'kube-system',
      uid: `${name}-uid`,
      resourceVersion: '1',
      creationTimestamp: iso(opts.createdAt ?? T0),
      labels: opts.labels ?? { ...(owner?.spec.template?.metadata?.labels ?? {}) },
    },
    status: {},
  };
  if (owner)
    m.metadata.ownerReferences = [
      { apiVersion: 'cluster.k8s.io/v1alpha1', kind: 'MachineSet', name: owner.metadata.name, uid: owner.metadata.uid!, controller: true },
    ];
  if (opts.phase) m.status!.providerStatus = { phase: opts.phase };
  if (opts.deleting) m.metadata.deletionTimestamp = iso(T0);
  if (opts.annotations) m.metadata.annotations = opts.annotations;
  if (opts.errorReason) m.status!.errorReason = opts.errorReason;
  return m;
}
