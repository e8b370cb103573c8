/**
 * kubevirt-admission: KubeVirt's and CDI's own admission webhooks (go/kubevirt/admission) as a
 * binary. build-admission.sh builds it once per machine into a cache outside the repo
 * (KMF_CACHE_DIR, default ~/.cache/kubevirt-machine-functions/admission/<key>) and prints its
 * path. dev/cluster/control-plane.ts runs it and registers it with the API server.
 */
import { onceBuilt } from './build-script.js';

/**
 * The webhook's paths (virt-api's and cdi-apiserver's own, from KubeVirt's
 * virt-operator/resource/generate/components and CDI's pkg/apiserver) and its health check.
 */
export const ADMISSION_PATHS = {
  vmValidate: '/virtualmachines-validate',
  vmMutate: '/virtualmachines-mutate',
  vmiCreateValidate: '/virtualmachineinstances-validate-create',
  vmiUpdateValidate: '/virtualmachineinstances-validate-update',
  dataVolumeValidate: '/datavolume-validate',
  health: '/healthz',
} as const;

/**
 * Runs build-admission.sh once per process (instant when cached; ~10 minutes the first time on
 * a machine, its progress on our stderr) and returns the kubevirt-admission binary's path.
 * Throws an Error naming the step that failed.
 */
export const ensureAdmissionWebhook: () => string = onceBuilt('build-admission.sh');
