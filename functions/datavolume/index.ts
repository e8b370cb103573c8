/**
 * Entry of the datavolume function: CDI DataVolume events (ours, by label) → import outcome on
 * the Machine and `machine.image.imported` / `machine.image.failed`.
 */
import * as ff from '@google-cloud/functions-framework';
import { cloudEventHandler } from '../../shared/runtime/handler.js';
import { createLogger } from '../../shared/runtime/log.js';
import { wireInfraDeps, type InfraDeps } from '../../shared/runtime/infra-deps.js';
import { FUNCTION_NAME, dataVolumeReconciler } from './reconcile.js';

const log = createLogger({ function: FUNCTION_NAME });
let deps: InfraDeps | undefined;
export const handler = cloudEventHandler(
  FUNCTION_NAME,
  (ev, l) => dataVolumeReconciler((deps ??= wireInfraDeps(process.env, log, 'kubevirt-machine-functions')))(ev, l),
  log,
);
ff.http(FUNCTION_NAME, handler);
