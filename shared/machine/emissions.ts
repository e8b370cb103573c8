/**
 * Follow-up events emitted once per transition of a Machine, in causal order.
 *
 * Before sending, the emission is claimed in `status.providerStatus.emitted[type]` as
 * `{key, at, pending: true}` with a resourceVersion precondition: of two concurrent deliveries
 * only one wins the claim (the other gets 409 and is retried, then sees the record). Once the
 * sink accepted the event, `pending` is removed: the record says "sent". If the send fails the
 * claim stays pending with the failure's time and the delivery is retried (5xx); for
 * RESEND_AFTER_MS every attempt answers "retry" without writing the Machine, the first one after
 * that claims it again and sends. (Releasing the claim at once made each failed send two Machine writes, each a Machine
 * event that reconciled and tried again: while the sink was down the functions fed on their own
 * writes.) A follow-up with a predecessor (`after`) is sent only once that one is sent, not
 * merely claimed, so consumers see them in order. The claim patch also carries whatever status
 * the caller wants written, so "status set" and "claim" cost one request.
 *
 * The status is the Machine's state and is written whatever happens to the event: a follow-up
 * that cannot be sent yet (the sink is down, or its predecessor is not sent yet) delays only
 * itself. Nothing but this module reads `emitted`.
 */
import type { CloudEvent } from 'cloudevents';
import type { MachineApi } from './api.js';
import type { Machine } from './types.js';
import { SinkError, type EventSink } from '../runtime/sink.js';

/** After a failed send, how long a claim is held before an attempt may claim and send again. */
export const RESEND_AFTER_MS = 5_000;

const recordOf = (m: Machine, type: string) => m.status?.providerStatus?.emitted?.[type];

/** Sent (the sink accepted it) for this transition. Records written before `pending` existed count as sent. */
export function alreadyEmitted(m: Machine, type: string, key: string): boolean {
  const r = recordOf(m, type);
  return r?.key === key && !r.pending;
}

/** A claim as the first write of a transition carries it (see also provision.ts's first reconcile). */
export const pendingClaim = (key: string) => ({ key, at: new Date().toISOString(), pending: true });

/** Marks `type` sent on `m` (after the sink accepted it). */
export function confirmSent(api: MachineApi, m: Machine, type: string): Promise<Machine> {
  return api.patchStatus(m, { providerStatus: { emitted: { [type]: { pending: null } } } });
}

export interface EmitOnceResult {
  machine: Machine;
  sent: boolean;
  /** The follow-up waits for its predecessor (`after`) to be sent first; the status was written. */
  deferred?: boolean;
}

/**
 * Writes `status` and claims `type`/`key`, then sends `event`. Throws (transient) when the
 * Machine changed meanwhile, the sink failed, or a claim of this transition is pending and
 * younger than RESEND_AFTER_MS (after writing `status`). Without a new transition only `status`
 * is written (and only when `status` is non-empty).
 */
export async function emitOnce(
  api: MachineApi,
  sink: EventSink,
  m: Machine,
  emission: {
    type: string;
    key: string;
    event: () => CloudEvent<unknown>;
    /** Causal order for consumers: send only once a follow-up of this type was sent for the Machine. */
    after?: string;
  },
  status: Record<string, unknown> = {},
  /** Machine spec fields to write in the same patch (e.g. providerID). */
  spec?: Record<string, unknown>,
): Promise<EmitOnceResult> {
  const before = emission.after === undefined ? undefined : recordOf(m, emission.after);
  const deferred = emission.after !== undefined && (!before || before.pending === true);
  const own = recordOf(m, emission.type);
  const claimedAt = own?.key === emission.key && own.pending ? Date.parse(own.at) : NaN;
  const backingOff = !deferred && Date.now() - claimedAt < RESEND_AFTER_MS;
  if (deferred || backingOff || alreadyEmitted(m, emission.type, emission.key)) {
    const result = { sent: false, ...(deferred ? { deferred } : {}) };
    const machine = Object.keys(status).length === 0 && !spec ? m : await api.patchStatus(m, status, guardFor(m, status), spec);
    // Pending and recent: being sent by another delivery, or sending failed. Answered "retry"
    // (5xx) without a write: Knative's redelivery comes back after the lease and claims it
    // again, and a caller that must not go on before it is sent (the finalizer) does not.
    if (backingOff)
      throw new SinkError(
        `${emission.type} not sent yet (claimed or failed at ${own!.at}); next attempt after ${RESEND_AFTER_MS / 1000} s`,
      );
    return { machine, ...result };
  }
  const merged = mergeProviderStatus(status, { emitted: { [emission.type]: pendingClaim(emission.key) } });
  const claimed = await api.patchStatus(m, merged, m.metadata.resourceVersion, spec);
  try {
    await sink.send(emission.event());
  } catch (e) {
    // Still pending; the lease restarts now, so the next attempt waits RESEND_AFTER_MS.
    await api
      .patchStatus(claimed, { providerStatus: { emitted: { [emission.type]: { at: new Date().toISOString() } } } })
      .catch(() => undefined);
    throw e;
  }
  return { machine: await confirmSent(api, claimed, emission.type), sent: true };
}

/**
 * `providerStatus.conditions` is an array, which a merge patch replaces whole: written from `m`,
 * it must land on `m`'s version, or a condition another function set meanwhile would be lost
 * (409 instead; the retry re-reads).
 */
function guardFor(m: Machine, status: Record<string, unknown>): string | undefined {
  const ps = status.providerStatus as Record<string, unknown> | undefined;
  return ps && 'conditions' in ps ? m.metadata.resourceVersion : undefined;
}

function mergeProviderStatus(status: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const ps = (status.providerStatus ?? {}) as Record<string, unknown>;
  const emitted = { ...((ps.emitted as object) ?? {}), ...((extra.emitted as object) ?? {}) };
  return { ...status, providerStatus: { ...ps, ...extra, emitted } };
}
