/**
 * The machine reconcile: an ApiServerSource event is only a key. We re-read the Machine and
 * act on its current state (level-triggered), so duplicates, reordering and stale payloads
 * converge to the same result. A new Machine's first reconcile confirms the payload with its
 * first write instead of a read (first-claim.ts); it falls back here whenever it cannot.
 */
import type { ApiServerEvent } from '../../events/apiserver.js';
import { apiServerReconciler } from '../../shared/runtime/apiserver-reconciler.js';
import { parseProviderSpecCached } from './spec-cache.js';
import { clusterResolver } from '../../shared/machine/resolver.js';
import type { Machine } from '../../shared/machine/types.js';
import { MACHINE_FINALIZER, ErrorReason } from '../../shared/constants.js';
import { ApiError } from '../../shared/kube/rest.js';
import { done, retry, type Outcome } from '../../shared/runtime/outcome.js';
import { infraNamespace, type MachineDeps, type ReconcileContext } from './context.js';
import { firstProvisioningStatus, provision } from './provision.js';
import { finalize, deleteOwned, targetForName, targetForUid } from './cleanup.js';
import { reportFailure } from './report.js';
import { infraTarget } from './infra-target.js';
import { beforeCreate } from './before-create.js';
import { provisionFromPayload } from './first-claim.js';
import { foreignMachine } from '../../shared/machine/foreign.js';

export { foreignMachine };

const MACHINE_KIND = { apiVersion: 'cluster.k8s.io/v1alpha1', kind: 'Machine' };
/** Bound on re-reads when the payload or our last read turns out stale (409). */
const MAX_ATTEMPTS = 3;

export function machineReconciler(deps: MachineDeps) {
  return apiServerReconciler([MACHINE_KIND], (ev, log) =>
    reconcile({ ...deps, log: log.with({ machine: `${ev.namespace}/${ev.name}` }), traceparent: ev.traceparent }, ev),
  );
}

async function reconcile(ctx: ReconcileContext, ev: ApiServerEvent): Promise<Outcome> {
  // The payload is unauthenticated input (anyone who can reach the function can POST one): it
  // is used as a key only, or as the precondition of a write whose answer confirms it.
  // Everything acted on comes from the API server's answer.
  const payload = ev.object as unknown as Machine | undefined;
  const first = await provisionFromPayload(ctx, ev, payload);
  if (first) return first;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const m = await ctx.machines.get(ev.namespace, ev.name);
    if (!m) return machineGone(ctx, ev, payload);
    if (payload?.metadata.uid && payload.metadata.uid !== m.metadata.uid && ev.operation === 'delete') {
      // The event is about an earlier Machine of the same name: clean up after that one.
      return machineGone(ctx, ev, payload);
    }
    // Another provider's Machine, or one machine-controller's worker label gives to another
    // controller: acknowledged, never written (no status, finalizer or Event). One we already
    // hold a finalizer on stays ours until it is released.
    const foreign = foreignMachine(m, ctx.env);
    if (foreign && !m.metadata.finalizers?.includes(MACHINE_FINALIZER)) return done(foreign);
    const parsed = await parseProviderSpecCached(
      m.spec?.providerSpec?.value,
      clusterResolver(ctx.machines.kube, m.metadata.namespace, ctx.env),
    );
    if (parsed.ok) ctx.referenced = parsed.referenced;
    if (m.metadata.deletionTimestamp) {
      const spec = parsed.ok ? parsed.config : undefined;
      const target = await infraTarget(ctx, spec?.kubeconfig);
      // A server the guard refuses (or a kubeconfig no client can use) was never contacted, so
      // nothing of ours can be there: the finalizer goes without a cleanup.
      if (!target.ok && target.permanent) return finalize(ctx, m, undefined);
      if (!target.ok) return retry(target.message);
      return finalize(ctx, m, targetForUid(target.infra, infraNamespace(spec?.namespace, ctx.env), m.metadata.uid));
    }
    if (!parsed.ok) {
      const detail = parsed.issues.map((i) => i.message).join('; ');
      return reportFailure(ctx, m, ErrorReason.InvalidConfiguration, `Failed to parse MachineSpec, due to ${detail}`);
    }
    // Before anything exists on the infra cluster: infra target, image and network preflight.
    // (Once the VM exists the image is CDI's business: a later failure is the datavolume function's.)
    const created = m.metadata.finalizers?.includes(MACHINE_FINALIZER) && m.status?.providerStatus?.virtualMachine?.name;
    let precheck: Promise<string | undefined> | undefined;
    if (!created) {
      const gate = await beforeCreate(ctx, m, parsed.config);
      if (!gate.ok) return gate.report(ctx, m);
      precheck = gate.precheck;
    }
    if (!m.metadata.finalizers?.includes(MACHINE_FINALIZER)) {
      // First reconcile of this Machine: one patch adds the finalizer (before anything exists
      // on the infra cluster), sets the status and claims the `machine.provisioning` emission.
      const updated = await ctx.machines.addFinalizer(m, firstProvisioningStatus(ctx, m, parsed.config));
      if (updated === 'gone') return machineGone(ctx, ev, payload);
      if (updated === 'stale') continue; // re-read
      return provision(ctx, updated, { config: parsed.config, deprecations: parsed.deprecations, claimed: true, precheck });
    }
    try {
      return await provision(ctx, m, { config: parsed.config, deprecations: parsed.deprecations, claimed: false, precheck });
    } catch (e) {
      // 409: the Machine changed under our status write — re-read and go again.
      if (e instanceof ApiError && e.status === 409 && attempt < MAX_ATTEMPTS - 1) continue;
      throw e;
    }
  }
  return retry('the Machine kept changing while being reconciled');
}

/**
 * The Machine no longer exists: make sure nothing of ours is left behind. The payload's spec is
 * not confirmed by anyone, so its infra kubeconfig is never contacted: we clean up with our own
 * identity, in the infra namespace the environment gives, and only objects labelled with this
 * Machine's namespace/name (and the payload's UID, when it names one) — a forged event can at
 * most ask us to delete what we created for an earlier Machine of this very name. Objects left
 * in an infra cluster only the spec named are the resync's orphan collection's business.
 */
async function machineGone(ctx: ReconcileContext, ev: ApiServerEvent, payload: Machine | undefined): Promise<Outcome> {
  if (ev.operation !== 'delete') return done('machine not found');
  const infra = ctx.infraFor(undefined);
  const ns = infraNamespace(undefined, ctx.env);
  const target = targetForName(infra, ns, ev.namespace, ev.name, payload?.metadata.uid);
  const gone = await deleteOwned(target);
  return gone ? done('nothing of ours left') : retry('objects of a deleted Machine are still being deleted');
}
