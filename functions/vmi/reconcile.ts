/**
 * VirtualMachineInstance events → the Machine: Running + Ready=True gives `status.addresses`
 * (every interface IP, InternalIP; the last known kept when the guest agent empties them),
 * `spec.providerID: kubevirt://<vmi>` when unset, and `machine.ready`; Failed gives the
 * Machine's error and `machine.failed`. Each once per transition, recorded on the Machine.
 */
import { buildFollowUp, FollowUpType } from '../../events/followup.js';
import { classifyVmi, type VmiLike } from '../../shared/status/vmi.js';
import { alreadyEmitted, emitOnce } from '../../shared/machine/emissions.js';
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

    if (c.state === 'ready') {
      // Causal order for consumers: imported before ready (a VMI only starts once its disks exist).
      if (!m.status?.providerStatus?.emitted?.[FollowUpType.imageImported]) return wait('machine.image.imported not emitted yet');
      const fresh: MachineAddress[] = c.addresses.map((address) => ({ type: 'InternalIP', address }));
      // The guest agent can empty `interfaces` for a while: keep what we knew.
      const addresses = fresh.length ? fresh : (m.status?.addresses ?? []);
      const status: Record<string, unknown> = {};
      if (!sameAddresses(m.status?.addresses, addresses)) status.addresses = addresses;
      if (m.status?.providerStatus?.phase !== 'Ready') status.providerStatus = { phase: 'Ready' };
      if (m.status?.errorMessage?.startsWith('VirtualMachineInstance ')) Object.assign(status, { errorReason: null, errorMessage: null });
      if (Object.keys(status).length) status.lastUpdated = new Date(deps.now()).toISOString();
      const spec = m.spec?.providerID ? undefined : { providerID: providerIdOf(key.name) };
      const providerID = m.spec?.providerID ?? providerIdOf(key.name);
      if (!alreadyEmitted(m, FollowUpType.ready, vmiUid) && addresses.length === 0) return wait('VMI is ready but reports no address yet');
      const r = await emitOnce(
        deps.machines,
        deps.sink,
        m,
        {
          type: FollowUpType.ready,
          key: vmiUid,
          event: () => buildFollowUp(FollowUpType.ready, { machine: ref, providerID, addresses }, ctx),
        },
        status,
        spec,
      );
      l.info('machine ready', { followUpSent: r.sent, addresses: addresses.map((a) => a.address) });
      return done(r.sent ? 'ready' : 'unchanged');
    }
    if (c.state === 'failed') {
      const unchanged = m.status?.errorReason === ErrorReason.CreateError && m.status?.errorMessage === c.message;
      const status = unchanged
        ? {}
        : {
            errorReason: ErrorReason.CreateError,
            errorMessage: c.message,
            lastUpdated: new Date(deps.now()).toISOString(),
            providerStatus: { phase: 'Failed' },
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
    return done(`${c.state}: ${c.reason}`);
  });
}
