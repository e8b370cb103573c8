/**
 * Entry of the machineset function: MachineSet and Machine events → Machines scaled to the
 * MachineSet's replicas with its delete policy; MachineSet status.
 */
import * as ff from '@google-cloud/functions-framework';
import { cloudEventHandler } from '../../shared/runtime/handler.js';
import { createLogger } from '../../shared/runtime/log.js';
import { machinesClusterClient } from '../../shared/kube/clusters.js';
import { FUNCTION_NAME, machineSetReconciler, type MachineSetDeps } from './reconcile.js';

const log = createLogger({ function: FUNCTION_NAME });
let deps: MachineSetDeps | undefined;
export const handler = cloudEventHandler(
  FUNCTION_NAME,
  (ev, l) => machineSetReconciler((deps ??= { kube: machinesClusterClient(process.env), now: Date.now }))(ev, l),
  log,
);
ff.http(FUNCTION_NAME, handler);
