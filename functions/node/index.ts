/**
 * Entry of the node function: v1 Node events of the Machines' cluster and `machine.ready`
 * follow-ups → Nodes linked to their Machines (owned-by label, spec labels/annotations/taints),
 * the Machine's nodeRef, kubelet version and Ready condition, `machine.node.joined` / `.lost`.
 */
import * as ff from '@google-cloud/functions-framework';
import { cloudEventHandler } from '../../shared/runtime/handler.js';
import { createLogger } from '../../shared/runtime/log.js';
import { wireNodeDeps, type NodeDeps } from './deps.js';
import { FUNCTION_NAME, nodeReconciler } from './reconcile.js';

const log = createLogger({ function: FUNCTION_NAME });
let deps: NodeDeps | undefined;
export const handler = cloudEventHandler(FUNCTION_NAME, (ev, l) => nodeReconciler((deps ??= wireNodeDeps(process.env, log)))(ev, l), log);
ff.http(FUNCTION_NAME, handler);
