/**
 * VirtualMachineInstance events → the Machine: Running + Ready=True gives the `VMIReady=True`
 * condition, `status.addresses` (every interface IP, InternalIP; the last known kept when the
 * guest agent empties them), `spec.providerID: kubevirt://<vmi>` when unset, and `machine.ready`;
 * Failed gives `VMIReady=False`, the Machine's error (owned by this function) and
 * `machine.failed`; a VMI that stops being ready (shut down, restarting, deleted) gives
 * `VMIReady=False`. Follow-ups once per transition, recorded on the Machine.
 */
import { buildFollowUp, FollowUpType } from '../../events/followup.js';
import { classifyVmi, type VmiLike } from '../../shared/status/vmi.js';
import { emitOnce } from '../../shared/machine/emissions.js';
import { ConditionType, conditionPatch, conditionTrue, ownsError, providerCondition } from '../../shared/machine/conditions.js';
import { observationReconciler, observeInfraObject } from '../../shared/machine/infra-observation.js';
import { machineRef, type Machine, type MachineAddress } from '../../shared/machine/types.js';
import { VIRTUAL_MACHINE_INSTANCE } from '../../shared/kube/paths.js';
import { ErrorReason } from '../../shared/constants.js';
import { done, wait } from '../../shared/runtime/outcome.js';
import type { InfraDeps } from '../../shared/runtime/infra-deps.js';

export const FUNCTION_NAME = 'vmi';
export const providerIdOf = (vmiName: string): string => `kubevirt://${vmiName}`;

const sameAddresses = (a: MachineAddress[] | undefined, b: MachineAddress[]) =>
  (a ?? []).length === b.length && b.every((x, i) => a![i].type === x.type && a![i].address === x.address);

/** The VMI a Machine's VM runs has the VM's name, which is the Machine's. */
const vmiNamesOf = (m: Machine): string[] => [m.metadata.name];

export function vmiReconciler(deps: InfraDeps) {
  // VMI events, and resync's Machine-keyed ones: the VMI of the Machine's VM.
  return observationReconciler(deps, VIRTUAL_MACHINE_INSTANCE, vmiNamesOf, async (key, log) => {
    // The VMI as the Machine's own credentials see it, in its infra namespace (shared/machine/infra-observation.ts).
    const o = await observeInfraObject<VmiLike & { metadata: { labels?: Record<string, string> } }>(deps, key, VIRTUAL_MACHINE_INSTANCE);
    if (!o.ok) return done(o.note);
    const { object: vmi, machine: m } = o;
    const c = classifyVmi(vmi);
    const l = log.with({ machine: `${m.metadata.namespace}/${m.metadata.name}`, vmi: `${key.namespace}/${key.name}`, state: c.state });
    const ctx = { function: FUNCTION_NAME, traceparent: key.traceparent, overrides: deps.ceOverrides };
    const ref = machineRef(m);
    const vmiUid = vmi.metadata.uid ?? key.name;

    const now = new Date(deps.now()).toISOString();

    if (c.state === 'ready') {
      // State order: the import is recorded before the VMI counts as ready (its disks exist).
      if (!conditionTrue(m, ConditionType.ImageImported)) return wait('ImageImported not recorded on the Machine yet');
      const fresh: MachineAddress[] = c.addresses.map((address) => ({ type: 'InternalIP', address }));
      // The guest agent can empty `interfaces` for a while: keep what we knew.
      const addresses = fresh.length ? fresh : (m.status?.addresses ?? []);
      // machine-controller's Machines are ready with an address: none yet → not ready yet.
      if (addresses.length === 0) return wait('VMI is ready but reports no address yet');
      const clearError = ownsError(m, 'vmi');
      const providerStatus: Record<string, unknown> = {
        ...conditionPatch(m, { type: ConditionType.VMIReady, status: 'True', reason: c.reason }, now),
      };
      if (m.status?.providerStatus?.phase !== 'Ready') providerStatus.phase = 'Ready';
      if (clearError) providerStatus.errorOwner = null;
      const status: Record<string, unknown> = {};
      if (!sameAddresses(m.status?.addresses, addresses)) status.addresses = addresses;
      if (Object.keys(providerStatus).length) status.providerStatus = providerStatus;
      if (clearError) Object.assign(status, { errorReason: null, errorMessage: null });
      if (Object.keys(status).length) status.lastUpdated = now;
      const spec = m.spec?.providerID ? undefined : { providerID: providerIdOf(key.name) };
      const providerID = m.spec?.providerID ?? providerIdOf(key.name);
      const r = await emitOnce(
        deps.machines,
        deps.sink,
        m,
        {
          type: FollowUpType.ready,
          key: vmiUid,
          event: () => buildFollowUp(FollowUpType.ready, { machine: ref, providerID, addresses }, ctx),
          after: FollowUpType.imageImported,
        },
        status,
        spec,
      );
      l.info('machine ready', { followUpSent: r.sent, followUpDeferred: r.deferred, addresses: addresses.map((a) => a.address) });
      if (r.deferred) return wait('machine.ready waits for machine.image.imported to be sent');
      return done(r.sent ? 'ready' : 'unchanged');
    }
    if (c.state === 'failed') {
      const condition = conditionPatch(m, { type: ConditionType.VMIReady, status: 'False', reason: c.reason, message: c.message }, now);
      const unchanged =
        m.status?.errorReason === ErrorReason.CreateError &&
        m.status?.errorMessage === c.message &&
        m.status?.providerStatus?.errorOwner === 'vmi' &&
        !condition.conditions;
      const status = unchanged
        ? {}
        : {
            errorReason: ErrorReason.CreateError,
            errorMessage: c.message,
            lastUpdated: now,
            providerStatus: { phase: 'Failed', errorOwner: 'vmi', ...condition },
          };
      const r = await emitOnce(
        deps.machines,
        deps.sink,
        m,
        {
          type: FollowUpType.failed,
          key: `vmi:${vmiUid}`,
          event: () => buildFollowUp(FollowUpType.failed, { machine: ref, reason: ErrorReason.CreateError, message: c.message }, ctx),
        },
        status,
      );
      if (r.sent)
        deps.machines.recordEventAsync(m, 'Warning', 'VMIFailed', c.message, (e) =>
          l.warn('recording an Event failed', { error: e.message }),
        );
      l.warn('vmi failed', { followUpSent: r.sent });
      return done(r.sent ? 'failed' : 'unchanged');
    }
    // Not ready (any more): a Machine that counted as ready stops counting. Written only on that
    // transition — from VMIReady=True, or from the phase of a Machine written before conditions.
    const was = providerCondition(m, ConditionType.VMIReady);
    const wasReady = was ? was.status === 'True' : m.status?.providerStatus?.phase === 'Ready';
    if (wasReady) {
      const condition = conditionPatch(m, { type: ConditionType.VMIReady, status: 'False', reason: c.reason, message: c.message }, now);
      await deps.machines.patchStatus(m, { lastUpdated: now, providerStatus: condition }, m.metadata.resourceVersion);
      l.info('vmi no longer ready', { reason: c.reason });
      return done(`no longer ready: ${c.reason}`);
    }
    return done(`${c.state}: ${c.reason}`);
  });
}
