/**
 * The VirtualMachine and userdata builders: pure functions from the normalised MachineConfig
 * (plus machine identity and resolved infra facts) to the objects we apply.
 */
export { buildVirtualMachine } from './build-vm.js';
export { secondaryDiskName } from './data-volumes.js';
export { buildUserdataSecret, builtinCloudInit, userdataFromOsm } from './userdata.js';
export type { MachineIdentity, UserdataSecret, VirtualMachine, VmBuildInput } from './types.js';
