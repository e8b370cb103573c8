/**
 * Entry of the resync function: PingSource ticks → re-announce Machines, DataVolumes and VMIs
 * to the Broker; delete orphaned infra objects.
 */
import * as ff from '@google-cloud/functions-framework';
import { cloudEventHandler } from '../../shared/runtime/handler.js';
import { createLogger } from '../../shared/runtime/log.js';
import { wireInfraDeps } from '../../shared/runtime/infra-deps.js';
import { FUNCTION_NAME, resyncReconciler, type ResyncDeps } from './reconcile.js';

const log = createLogger({ function: FUNCTION_NAME });
let deps: ResyncDeps | undefined;
export const handler = cloudEventHandler(
  FUNCTION_NAME,
  (ev, l) => resyncReconciler((deps ??= wireInfraDeps(process.env, log, 'kubevirt-machine-functions')))(ev, l),
  log,
);
ff.http(FUNCTION_NAME, handler);
