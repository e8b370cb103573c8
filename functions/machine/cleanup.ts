/**
 * Deletion: remove what we created for a Machine and hold its finalizer until the API shows
 * the VirtualMachine, its DataVolumes and the userdata Secret gone. Only objects carrying the
 * Machine's UID label are deleted — a foreign object of the same name is left alone.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, isTransient, type KubeClient } from '../../shared/kube/rest.js';
import { ErrorReason } from '../../shared/constants.js';
import { reportFailure } from './report.js';
import { DATA_VOLUME, SECRET, VIRTUAL_MACHINE, objectPath, type Kind } from '../../shared/kube/paths.js';
import { listByLabel, type KubeObject } from '../../shared/infra/apply.js';
import { selectorForName, selectorForUid } from '../../shared/infra/ownership.js';
import { emitOnce } from '../../shared/machine/emissions.js';
import { machineRef, type Machine } from '../../shared/machine/types.js';
import { buildFollowUp, FollowUpType } from '../../events/followup.js';
import { MACHINE_FINALIZER } from '../../shared/constants.js';
import { done, wait, type Outcome } from '../../shared/runtime/outcome.js';
import { followUpCtx, type ReconcileContext } from './context.js';
import { SinkError } from '../../shared/runtime/sink.js';

const KINDS: Kind[] = [VIRTUAL_MACHINE, DATA_VOLUME, SECRET];
/** Short in-request polls: on a cluster without finalizers on VMs deletion completes in milliseconds. */
const POLLS_MS = [50, 150, 300];

export interface CleanupTarget {
  infra: KubeClient;
  namespace: string;
  /** Label selector for "ours": the Machine UID, or namespace/name when only a reference is known. */
  selector: string;
}

export const targetForUid = (infra: KubeClient, namespace: string, uid: string): CleanupTarget => ({
  infra,
  namespace,
  selector: selectorForUid(uid),
});
/** Objects of the Machine `mns/name`; with `uid`, only those of that incarnation of it. */
export const targetForName = (infra: KubeClient, namespace: string, mns: string, name: string, uid?: string): CleanupTarget => ({
  infra,
  namespace,
  selector: uid ? `${selectorForName(mns, name)},${selectorForUid(uid)}` : selectorForName(mns, name),
});

/** Deletes our objects; resolves true when none remain. */
export async function deleteOwned(t: CleanupTarget): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    let remaining = 0;
    for (const k of KINDS) {
      const items = await listByLabel<KubeObject>(t.infra, k, t.namespace, t.selector);
      for (const o of items) {
        remaining++;
        if (!o.metadata.deletionTimestamp) {
          await t.infra.delete(objectPath(k, t.namespace, o.metadata.name), 'Background', o.metadata.uid);
        }
      }
    }
    if (remaining === 0) return true;
    if (attempt >= POLLS_MS.length) return false;
    await sleep(POLLS_MS[attempt]);
  }
}

/** A Machine with deletionTimestamp and our finalizer; `t` undefined: nothing can exist to clean up. */
export async function finalize(ctx: ReconcileContext, m: Machine, t: CleanupTarget | undefined): Promise<Outcome> {
  if (!m.metadata.finalizers?.includes(MACHINE_FINALIZER)) return done('not ours to finalize');
  let gone: boolean;
  try {
    gone = t ? await deleteOwned(t) : true;
  } catch (e) {
    if (!(e instanceof ApiError) || isTransient(e)) throw e;
    // Refused (403 above all): say so on the Machine, with what to do, instead of a silent retry.
    return reportFailure(
      ctx,
      m,
      ErrorReason.DeleteError,
      `cleaning up on the infra cluster was refused: ${e.method} ${e.path}: ${e.status} ${e.reason}: ${e.apiMessage}. ` +
        `Grant the function's infra identity list and delete on virtualmachines, datavolumes and secrets in namespace ${t!.namespace} ` +
        `(knative/infra RBAC), or delete them by hand and remove the finalizer ${MACHINE_FINALIZER}; the finalizer stays until then`,
    );
  }
  if (!gone) {
    if (m.status?.providerStatus?.phase !== 'Deleting') {
      await ctx.machines.patchStatus(m, { providerStatus: { phase: 'Deleting' }, lastUpdated: new Date().toISOString() });
    }
    return wait('waiting for the VirtualMachine, DataVolumes and userdata Secret to be deleted');
  }
  // Emit before releasing the finalizer: afterwards the Machine (and our record) is gone. A sink
  // that is down must not hold the deletion (nor a rollout waiting for it): the event is then lost, and logged.
  const res = await emitOnce(ctx.machines, ctx.sink, m, {
    type: FollowUpType.deleted,
    key: m.metadata.uid,
    event: () => buildFollowUp(FollowUpType.deleted, { machine: machineRef(m) }, followUpCtx(ctx)),
  }).catch((e) => {
    if (!(e instanceof SinkError)) throw e;
    ctx.log.warn('machine.deleted not delivered; the finalizer is released anyway', { error: e.message });
    return { machine: m, sent: false };
  });
  await ctx.machines.removeFinalizer(res.machine);
  ctx.log.info('machine finalized', { followUpSent: res.sent });
  return done('deleted');
}
