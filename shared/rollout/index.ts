/**
 * MachineDeployment → MachineSet → Machine rollout logic with machine-controller's semantics
 * (reference §8): defaults, webhook validation, template hashing, revisions, the rolling-update
 * and MachineSet planners, delete policies. Pure: no I/O, no clocks unless passed in.
 */
export * from './types.js';
export * from './defaults.js';
export * from './intstr.js';
export * from './labels.js';
export * from './validate.js';
export * from './hash.js';
export * from './revisions.js';
export * from './delete-policy.js';
export * from './readiness.js';
export * from './machineset.js';
export * from './new-machineset.js';
export * from './scale.js';
export * from './rolling.js';
export * from './ownership.js';
