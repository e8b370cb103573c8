/**
 * Test hooks: ways for a test to ask the simulator for outcomes a real cluster would produce
 * only under conditions a test cannot create. Nothing else deviates from upstream behaviour.
 */

/**
 * On a VirtualMachineInstance (or in a VM's spec.template.metadata.annotations, which the VMI
 * inherits): instead of Running, the VMI goes Scheduled → Failed, with `status.reason` set to
 * the annotation's value and Ready False / GuestNotRunning.
 */
export const VMI_FAIL_ANNOTATION = 'simulator.kubevirt-machine-functions.io/fail';

/**
 * A registry DataVolume source whose url contains `notfound` names an image that does not
 * exist (see cdi/dv-flavor.ts isMissingImage). pullMethod node: the importer pod cannot pull
 * it → ImportScheduled, Running False / ImagePullFailed / `failed to pull image: <image>`.
 * pullMethod pod (default): the importer fails reading the manifest → Running False / Error,
 * restartCount growing.
 */
export const MISSING_IMAGE_MARKER = 'notfound';
