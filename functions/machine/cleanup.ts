/**
 * Deletion, in machine-controller's order (reference §5.2 "Deletion"): drain the Machine's Node
 * (drain.ts), remove what we created for the Machine on the infra cluster and wait until the API
 * shows the VirtualMachine, its DataVolumes and the userdata Secret gone, then delete the Node
 * object, then release the finalizer. Only objects carrying the Machine's UID label are deleted
 * (infra objects: ours; Nodes: machine-controller's owned-by label), a foreign object of the
 * same name is left alone.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, isTransient, type KubeClient } from '../../shared/kube/rest.js';
import { ErrorReason } from '../../shared/constants.js';
import { machineMessage, reportFailure } from './report.js';
import { DATA_VOLUME, SECRET, VIRTUAL_MACHINE, objectPath, type Kind } from '../../shared/kube/paths.js';
import { listByLabel, type KubeObject } from '../../shared/infra/apply.js';
import { selectorForName, selectorForUid } from '../../shared/infra/ownership.js';
import { emitOnce } from '../../shared/machine/emissions.js';
import { machineRef, type Machine } from '../../shared/machine/types.js';
import { buildFollowUp, FollowUpType } from '../../events/followup.js';
import { MACHINE_FINALIZER } from '../../shared/constants.js';
import { done, retry, wait, type Outcome } from '../../shared/runtime/outcome.js';
import { followUpCtx, type ReconcileContext } from './context.js';
import { deleteNodes, drainPass, machineNodes } from './drain.js';
import { formatDuration, SKIP_EVICTION_AFTER_ENV, SKIP_EVICTION_ANNOTATION, skipEvictionAfterMs } from '../../shared/machine/drain-plan.js';
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
  const skipAfterMs = skipEvictionAfterMs(ctx.env);
  if (skipAfterMs === undefined) {
    // The deployment's setting, not the Machine's fault: nothing is guessed, the deletion waits
    // (visibly) until the environment is fixed.
    const message = `${SKIP_EVICTION_AFTER_ENV}=${ctx.env[SKIP_EVICTION_AFTER_ENV]} is not a Go duration (e.g. 2h, 90m, 45s): fix the machine function's environment`;
    await showDeleting(ctx, m, { reason: 'InvalidSetting', message });
    return retry(message);
  }
  const kube = ctx.machines.kube;
  const found = await onMachinesCluster(ctx, m, "reading the Machine's Node", () => machineNodes(kube, m));
  if (!found.ok) return found.outcome;
  const nodes = found.value;
  // Level-triggered: every invocation re-reads the Node and its pods and issues what is left;
  // a VM whose deletion already started finds its Node NotReady (or drained) and passes.
  const pass = await onMachinesCluster(
    ctx,
    m,
    "draining the Machine's Node",
    () => drainPass(kube, m, nodes, { nowMs: Date.now(), skipAfterMs }),
    // What lets the deletion go on without the rights: machine-controller's skip annotation, or the bound.
    `, or annotate the Node ${SKIP_EVICTION_ANNOTATION} (eviction is also skipped once the deletion is older than ` +
      `${SKIP_EVICTION_AFTER_ENV}, ${formatDuration(skipAfterMs)})`,
  );
  if (!pass.ok) return pass.outcome;
  const drain = pass.value;
  if (drain.kind === 'draining') {
    const wrote = await showDeleting(ctx, m, { reason: 'DrainingNode', message: drain.message });
    // machine-controller records an eviction failure (not a budget refusal) as a Warning
    // ReconcilingError with its error text; once per distinct state here, not per retry.
    if (wrote && drain.errors.length) {
      ctx.machines.recordEventAsync(m, 'Warning', 'ReconcilingError', machineMessage(ctx, drain.errors.join('; ')), (e) =>
        ctx.log.warn('recording an Event failed', { error: e.message }),
      );
    }
    ctx.log.info('draining node', { message: drain.message });
    return wait("draining the Machine's Node before the VirtualMachine is deleted");
  }
  if (drain.notes.length) ctx.log.info('eviction skipped', { notes: drain.notes });
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
    await showDeleting(ctx, m, null);
    return wait('waiting for the VirtualMachine, DataVolumes and userdata Secret to be deleted');
  }
  // The Node object goes only once the VM is gone (machine-controller: "Delete the node object
  // only after the instance is gone"), so a kubelet still running never re-registers it.
  const deleted = await onMachinesCluster(
    ctx,
    m,
    "deleting the Machine's Node",
    () => deleteNodes(kube, nodes),
    ', or delete the Node by hand',
  );
  if (!deleted.ok) return deleted.outcome;
  if (deleted.value.length) ctx.log.info('node deleted', { nodes: deleted.value });
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

/**
 * Runs one step against the Machines' cluster's Nodes and pods. A refusal (403: the function's
 * RBAC there) becomes machine-controller's DeleteError on the Machine, saying what to do;
 * transient failures are thrown (retried).
 */
async function onMachinesCluster<T>(
  ctx: ReconcileContext,
  m: Machine,
  what: string,
  step: () => Promise<T>,
  otherwise = '',
): Promise<{ ok: true; value: T } | { ok: false; outcome: Outcome }> {
  try {
    return { ok: true, value: await step() };
  } catch (e) {
    if (!(e instanceof ApiError) || isTransient(e)) throw e;
    const outcome = await reportFailure(
      ctx,
      m,
      ErrorReason.DeleteError,
      `${what} was refused: ${e.method} ${e.path}: ${e.status} ${e.reason}: ${e.apiMessage}. ` +
        `Grant the machine function get, list, patch and delete on nodes, list on pods and create on pods/eviction in the Machines' cluster ` +
        `(knative/machine/rbac.yaml)${otherwise}; the finalizer ${MACHINE_FINALIZER} stays until then`,
    );
    return { ok: false, outcome };
  }
}

/**
 * The Machine shows `providerStatus.phase: Deleting` and, while the deletion waits on something
 * other than the VM (the drain), why in `providerStatus.waiting`. Written only when that changes,
 * so retries do not rewrite the Machine; returns whether it wrote.
 */
async function showDeleting(ctx: ReconcileContext, m: Machine, waiting: { reason: string; message: string } | null): Promise<boolean> {
  const ps = m.status?.providerStatus;
  const message = waiting && machineMessage(ctx, waiting.message);
  const current = ps?.waiting ?? null;
  const same = waiting ? current?.reason === waiting.reason && current?.message === message : current === null;
  if (ps?.phase === 'Deleting' && same) return false;
  const next = waiting ? { reason: waiting.reason, message: message!, since: same ? current!.since : new Date().toISOString() } : null;
  await ctx.machines.patchStatus(m, { providerStatus: { phase: 'Deleting', waiting: next }, lastUpdated: new Date().toISOString() });
  return true;
}
