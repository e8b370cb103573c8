/**
 * KubeVirt's and CDI's own admission on the control plane: the webhook configurations that
 * point kube-apiserver at kubevirt-admission (dev/upstream/go/kubevirt/admission, built by
 * dev/upstream/build-admission.sh), and the probe that proves the API server enforces them.
 *
 * As virt-api and cdi-apiserver register themselves (names, paths, operations from KubeVirt's
 * virt-operator components and CDI's operator), but with `clientConfig.url` on loopback and the
 * throwaway CA as `caBundle`; every namespace; `failurePolicy: Fail`, so a dead webhook makes
 * writes fail loudly instead of letting unvalidated objects in.
 */
import type { KubeClient } from '../../shared/kube/rest.js';
import { ADMISSION_PATHS } from '../upstream/admission.js';

export const VALIDATING_CONFIGURATION = 'kubevirt-machine-functions-kubevirt-cdi-validator';
export const MUTATING_CONFIGURATION = 'kubevirt-machine-functions-kubevirt-vm-mutator';

type Operation = 'CREATE' | 'UPDATE';

function webhook(name: string, baseUrl: string, caBundle: string, path: string, group: string, resource: string, operations: Operation[]) {
  return {
    name,
    admissionReviewVersions: ['v1'],
    sideEffects: 'None',
    failurePolicy: 'Fail',
    timeoutSeconds: 10,
    rules: [{ operations, apiGroups: [group], apiVersions: ['*'], resources: [resource], scope: '*' }],
    clientConfig: { url: `${baseUrl}${path}`, caBundle },
  };
}

/** The ValidatingWebhookConfiguration and MutatingWebhookConfiguration for a webhook at `baseUrl`. */
export function admissionConfigurations(baseUrl: string, caPem: string): { validating: object; mutating: object } {
  const ca = Buffer.from(caPem, 'utf8').toString('base64');
  const kv = 'kubevirt.io';
  return {
    validating: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: VALIDATING_CONFIGURATION },
      webhooks: [
        webhook('virtualmachine-validator.kubevirt.io', baseUrl, ca, ADMISSION_PATHS.vmValidate, kv, 'virtualmachines', [
          'CREATE',
          'UPDATE',
        ]),
        webhook(
          'virtualmachineinstances-create-validator.kubevirt.io',
          baseUrl,
          ca,
          ADMISSION_PATHS.vmiCreateValidate,
          kv,
          'virtualmachineinstances',
          ['CREATE'],
        ),
        webhook(
          'virtualmachineinstances-update-validator.kubevirt.io',
          baseUrl,
          ca,
          ADMISSION_PATHS.vmiUpdateValidate,
          kv,
          'virtualmachineinstances',
          ['UPDATE'],
        ),
        webhook('datavolume-validate.cdi.kubevirt.io', baseUrl, ca, ADMISSION_PATHS.dataVolumeValidate, 'cdi.kubevirt.io', 'datavolumes', [
          'CREATE',
          'UPDATE',
        ]),
      ],
    },
    mutating: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: MUTATING_CONFIGURATION },
      webhooks: [
        webhook('virtualmachines-mutator.kubevirt.io', baseUrl, ca, ADMISSION_PATHS.vmMutate, kv, 'virtualmachines', ['CREATE', 'UPDATE']),
      ],
    },
  };
}

/** Creates both configurations. */
export async function registerAdmission(kube: KubeClient, baseUrl: string, caPem: string): Promise<void> {
  const { validating, mutating } = admissionConfigurations(baseUrl, caPem);
  await Promise.all([
    kube.create('/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', validating),
    kube.create('/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations', mutating),
  ]);
}

/**
 * CDI's cluster configuration `config`, empty, as cdi-operator creates it: CDI's DataVolume
 * webhook reads its feature gates when a DataVolume's PVC already exists (claim adoption), and
 * refuses the DataVolume when it cannot. An existing one is left as it is.
 */
export async function createCdiConfig(kube: KubeClient): Promise<void> {
  const res = await kube.send('POST', '/apis/cdi.kubevirt.io/v1beta1/cdiconfigs', {
    body: { apiVersion: 'cdi.kubevirt.io/v1beta1', kind: 'CDIConfig', metadata: { name: 'config' }, spec: {} },
  });
  if (res.status !== 201 && res.status !== 409) throw new Error(`creating CDIConfig config: HTTP ${res.status} ${res.text}`);
}

/** A VirtualMachine KubeVirt admits: memory, a run strategy, nothing else. */
function minimalVm(name: string, volume?: string): object {
  const devices = volume ? { disks: [{ name: volume, disk: { bus: 'virtio' } }] } : {};
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name },
    spec: { runStrategy: 'Halted', template: { spec: { domain: { devices, resources: { requests: { memory: '64Mi' } } } } } },
  };
}

const dryRun = { dryRun: 'All' };

/**
 * One round of dry-run requests in `namespace`: true once the API server calls every webhook,
 * i.e. a VM whose disk names no volume and a DataVolume without source are denied by them, and a
 * valid VM comes back with KubeVirt's defaults (a firmware UUID). Only the kinds whose CRDs are
 * installed are probed. The API server picks up new webhook configurations a moment after they
 * are created, hence polling.
 */
export async function admissionEnforced(
  kube: KubeClient,
  namespace: string,
  kinds: { vm: boolean; dataVolume: boolean },
): Promise<boolean> {
  const probes: Promise<boolean>[] = [];
  const deniedBy = (res: { status: number; body: unknown }, webhookName: string): boolean =>
    res.status >= 400 &&
    ((res.body as { message?: string } | undefined)?.message ?? '').includes(`admission webhook "${webhookName}" denied`);
  if (kinds.vm) {
    const vms = `/apis/kubevirt.io/v1/namespaces/${namespace}/virtualmachines`;
    probes.push(
      kube
        .send('POST', vms, { query: dryRun, body: minimalVm('kmf-admission-probe', 'no-such-volume') })
        .then((res) => deniedBy(res, 'virtualmachine-validator.kubevirt.io')),
      kube.send('POST', vms, { query: dryRun, body: minimalVm('kmf-admission-probe') }).then((res) => {
        const firmware = (res.body as { spec?: { template?: { spec?: { domain?: { firmware?: { uuid?: string } } } } } } | undefined)?.spec
          ?.template?.spec?.domain?.firmware;
        return res.status === 201 && typeof firmware?.uuid === 'string';
      }),
    );
  }
  if (kinds.dataVolume) {
    probes.push(
      kube
        .send('POST', `/apis/cdi.kubevirt.io/v1beta1/namespaces/${namespace}/datavolumes`, {
          query: dryRun,
          body: {
            apiVersion: 'cdi.kubevirt.io/v1beta1',
            kind: 'DataVolume',
            metadata: { name: 'kmf-admission-probe' },
            spec: { storage: { resources: { requests: { storage: '1Gi' } } } },
          },
        })
        .then((res) => deniedBy(res, 'datavolume-validate.cdi.kubevirt.io')),
    );
  }
  return (await Promise.all(probes)).every(Boolean);
}
