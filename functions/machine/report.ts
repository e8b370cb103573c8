/**
 * Reporting a permanent fault on a Machine: `status.errorReason/errorMessage` (how
 * machine-controller users read failures), a Warning Event, and `machine.failed` — the
 * event and the follow-up once per distinct fault.
 */
import { createHash } from 'node:crypto';
import { buildFollowUp, FollowUpType } from '../../events/followup.js';
import { emitOnce } from '../../shared/machine/emissions.js';
import { machineRef, type Machine } from '../../shared/machine/types.js';
import { retry, terminal, type Outcome } from '../../shared/runtime/outcome.js';
import { followUpCtx, type ReconcileContext } from './context.js';
import { scrubReferenced } from '../../shared/providerspec/referenced-values.js';
import { redactUrlsIn } from '../../shared/preflight/ssrf.js';

/** Longest errorMessage we write: status, Events and follow-ups stay readable (and small). */
export const MAX_ERROR_MESSAGE = 1024;

/** A message fit for the Machine: no value the spec took from a Secret/ConfigMap, bounded length. */
export function machineMessage(ctx: ReconcileContext, message: string): string {
  const text = redactUrlsIn(scrubReferenced(message, ctx.referenced ?? []));
  return text.length > MAX_ERROR_MESSAGE ? `${text.slice(0, MAX_ERROR_MESSAGE - 1)}…` : text;
}

export async function reportFailure(ctx: ReconcileContext, m: Machine, reason: string, rawMessage: string): Promise<Outcome> {
  const message = machineMessage(ctx, rawMessage);
  const key = createHash('sha256').update(`${reason}\n${message}`).digest('hex').slice(0, 16);
  // errorOwner: only this function clears what it reported (provision.ts, on success).
  const unchanged =
    m.status?.errorReason === reason && m.status?.errorMessage === message && m.status?.providerStatus?.errorOwner === 'machine';
  const status = unchanged
    ? {}
    : {
        errorReason: reason,
        errorMessage: message,
        lastUpdated: new Date().toISOString(),
        providerStatus: { phase: 'Failed', errorOwner: 'machine' },
      };
  const res = await emitOnce(
    ctx.machines,
    ctx.sink,
    m,
    {
      type: FollowUpType.failed,
      key,
      event: () => buildFollowUp(FollowUpType.failed, { machine: machineRef(m), reason, message }, followUpCtx(ctx)),
    },
    status,
  );
  if (res.sent)
    ctx.machines.recordEventAsync(m, 'Warning', reason, message, (e) => ctx.log.warn('recording an Event failed', { error: e.message }));
  ctx.log.warn('machine failed', { reason, message, followUpSent: res.sent });
  return terminal(reason, message);
}

/**
 * A transient fault (the image server or the infra API unreachable, DNS failing): retried with
 * Knative's backoff, and shown on the Machine as `status.providerStatus.waiting` (reason,
 * message, since) so a fault that persists is visible instead of a silent stall. Written only
 * when the reason or message changes, so the retries do not write the Machine again; the
 * provisioning claim clears it.
 */
export async function reportWaiting(ctx: ReconcileContext, m: Machine, reason: string, rawMessage: string): Promise<Outcome> {
  const message = machineMessage(ctx, rawMessage);
  const current = m.status?.providerStatus?.waiting;
  if (current?.reason !== reason || current?.message !== message) {
    await ctx.machines.patchStatus(m, { providerStatus: { waiting: { reason, message, since: new Date().toISOString() } } });
  }
  ctx.log.warn('machine waiting', { reason, message });
  return retry(message);
}
