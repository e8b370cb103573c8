/**
 * Entry of the vmi function: KubeVirt VirtualMachineInstance events (ours, by label) →
 * Machine addresses, providerID, `machine.ready` / `machine.failed`.
 */
import * as ff from '@google-cloud/functions-framework';
import { cloudEventHandler } from '../../shared/runtime/handler.js';
import { createLogger } from '../../shared/runtime/log.js';
import { wireInfraDeps, type InfraDeps } from '../../shared/runtime/infra-deps.js';
import { FUNCTION_NAME, vmiReconciler } from './reconcile.js';

const log = createLogger({ function: FUNCTION_NAME });
let deps: InfraDeps | undefined;
export const handler = cloudEventHandler(
  FUNCTION_NAME,
  (ev, l) => vmiReconciler((deps ??= wireInfraDeps(process.env, log, 'kubevirt-machine-functions')))(ev, l),
  log,
);
ff.http(FUNCTION_NAME, handler);
