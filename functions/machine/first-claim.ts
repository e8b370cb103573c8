/**
 * The first reconcile of a new Machine in three writes and one read. The event's payload is
 * unauthenticated, so it is only acted on once the API server has confirmed it: the first write
 * (finalizer, `Provisioning` status, the provisioning claim) is a JSON patch that lands only if
 * the stored Machine is exactly the payload, and its answer is the stored Machine. That write
 * replaces the read a key-only reconcile would start with (`npm run bench -- machine`: 4 API
 * requests per Machine instead of 5).
 *
 * Taken only when the payload shows a Machine of ours that we have not claimed yet and whose spec
 * reads no Secret or ConfigMap (a forged payload must not make us read those); anything else —
 * a payload that is stale, forged, or a spec that does not parse — goes the key-only way, which
 * reads the Machine first and reports what it finds.
 */
import type { ApiServerEvent } from '../../events/apiserver.js';
import type { Machine } from '../../shared/machine/types.js';
import { MACHINE_FINALIZER } from '../../shared/constants.js';
import { FollowUpType } from '../../events/followup.js';
import { clusterResolver } from '../../shared/machine/resolver.js';
import type { Outcome } from '../../shared/runtime/outcome.js';
import type { ReconcileContext } from './context.js';
import { hasReferences, parseProviderSpecCached } from './spec-cache.js';
import { firstProvisioningStatus, provision } from './provision.js';
import { beforeCreate } from './before-create.js';
import { foreignMachine } from '../../shared/machine/foreign.js';

/** The outcome, or undefined when the payload cannot be confirmed this way. */
export async function provisionFromPayload(
  ctx: ReconcileContext,
  ev: ApiServerEvent,
  payload: Machine | undefined,
): Promise<Outcome | undefined> {
  if (!payload || (ev.operation !== 'add' && ev.operation !== 'update')) return undefined;
  const md = payload.metadata;
  if (md?.namespace !== ev.namespace || md.name !== ev.name || !md.uid || !md.resourceVersion) return undefined;
  if (md.deletionTimestamp || md.finalizers?.includes(MACHINE_FINALIZER) || foreignMachine(payload, ctx.env)) return undefined;
  const value = payload.spec?.providerSpec?.value;
  if (hasReferences(value)) return undefined;
  // No references: the resolver is never asked (the parse depends on the text alone).
  const parsed = await parseProviderSpecCached(value, clusterResolver(ctx.machines.kube, md.namespace, ctx.env));
  if (!parsed.ok) return undefined;

  const claimed = await ctx.machines.claimIfUnchanged(payload, firstProvisioningStatus(ctx, payload, parsed.config));
  if (claimed === 'stale') return undefined;
  // Confirmed: from here on everything comes from `claimed`, the stored Machine.
  const gate = await beforeCreate(ctx, claimed, parsed.config);
  if (!gate.ok) return gate.report(ctx, await retract(ctx, claimed));
  return provision(ctx, claimed, { config: parsed.config, deprecations: parsed.deprecations, claimed: true, precheck: gate.precheck });
}

/**
 * Takes back what the first write announced before the checks failed: the VM it named was never
 * created, so a later reconcile must run the checks again (it does when no VM is recorded), and
 * the provisioning claim is released. The finalizer stays, as machine-controller keeps its own.
 */
async function retract(ctx: ReconcileContext, m: Machine): Promise<Machine> {
  return ctx.machines.patchStatus(m, {
    providerStatus: { virtualMachine: null, userdataSecret: null, emitted: { [FollowUpType.provisioning]: null } },
  });
}
