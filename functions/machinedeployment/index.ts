/**
 * Entry of the machinedeployment function: MachineDeployment and MachineSet events → MachineSets
 * rolled per the RollingUpdate strategy; MachineDeployment status and revision annotations.
 */
import * as ff from '@google-cloud/functions-framework';
import { cloudEventHandler } from '../../shared/runtime/handler.js';
import { createLogger } from '../../shared/runtime/log.js';
import { machinesClusterClient } from '../../shared/kube/clusters.js';
import { FUNCTION_NAME, machineDeploymentReconciler, type MachineDeploymentDeps } from './reconcile.js';

const log = createLogger({ function: FUNCTION_NAME });
let deps: MachineDeploymentDeps | undefined;
export const handler = cloudEventHandler(
  FUNCTION_NAME,
  (ev, l) => machineDeploymentReconciler((deps ??= { kube: machinesClusterClient(process.env), now: Date.now }))(ev, l),
  log,
);
ff.http(FUNCTION_NAME, handler);
