/**
 * Follow-up events emitted once per transition of a Machine, in causal order.
 *
 * Before sending, the emission is claimed in `status.providerStatus.emitted[type]` as
 * `{key, at}` with a resourceVersion precondition: of two concurrent deliveries only one wins the
 * claim (the other gets 409 and is retried, then sees the record). The claim patch also carries
 * whatever status the caller wants written, so "status set" and "claim" cost one request, and a
 * send the sink accepts costs no further write (the Machine function's 4 requests per Machine).
 * A send that fails marks the record `failedAt` and the delivery is retried (5xx); for
 * RESEND_AFTER_MS every attempt answers "retry" without writing the Machine, the first one after
 * that claims it again and sends. (Releasing the claim at once made each failed send two Machine
 * writes, each a Machine event that reconciled and tried again: while the sink was down the
 * functions fed on their own writes.) A follow-up with a predecessor (`after`) is sent only once
 * that one is claimed and not failed, so consumers see them in order. A claim alone does not say
 * the send is over, so a successor that had to wait marks the predecessor's record `awaited`,
 * and that predecessor's claimant then confirms its send (`sentAt`): the successor goes once it
 * is confirmed, or IN_FLIGHT_MS after the claim (a claimant that died between send and
 * confirmation). Where nothing waited (the usual order) nothing more is written. This is what
 * keeps the order when a sink outage ends and a resync tick makes every held follow-up go at
 * once; the window left is a successor whose first look already found the claim with its send
 * still in flight.
 *
 * The status is the Machine's state and is written whatever happens to the event: a follow-up
 * that cannot be sent yet (the sink is down, or its predecessor is not sent yet) delays only
 * itself. Nothing but this module reads `emitted`.
 */
import type { CloudEvent } from 'cloudevents';
import type { MachineApi } from './api.js';
import type { Machine } from './types.js';
import { SendHeld, type EventSink } from '../runtime/sink.js';

/** After a failed send, how long a claim is held before an attempt may claim and send again. */
export const RESEND_AFTER_MS = 5_000;

/**
 * How long an unconfirmed claim that a successor awaits counts as a send in flight: beyond the
 * sink's own timeout (httpSink, 10 s), after which the send has succeeded or failed.
 */
export const IN_FLIGHT_MS = 15_000;

const recordOf = (m: Machine, type: string) => m.status?.providerStatus?.emitted?.[type];

/** Claimed for this transition and not failed: sent, or being sent by the claimant. */
export function alreadyEmitted(m: Machine, type: string, key: string): boolean {
  const r = recordOf(m, type);
  return r?.key === key && !r.failedAt;
}

/**
 * Claimed for this transition and its send failed: the status written with the claim already
 * shows the transition, so a caller that reads transitions from that status asks this to send it
 * again (emitOnce holds it for RESEND_AFTER_MS first).
 */
export function sendFailed(m: Machine, type: string, key: string): boolean {
  const r = recordOf(m, type);
  return r?.key === key && Boolean(r.failedAt);
}

/** The record a claim writes (see also provision.ts's first reconcile, which claims in its first write). */
export const claimRecord = (key: string) => ({ key, at: new Date().toISOString(), failedAt: null, sentAt: null });

/**
 * Why a follow-up with predecessor `after` cannot be sent yet: the predecessor is not claimed, its
 * send failed, or a successor waited for it and its send is not confirmed yet (still in flight).
 */
function predecessorPending(m: Machine, after: string, now: number): boolean {
  const r = recordOf(m, after);
  if (!r?.key || r.failedAt) return true;
  if (!r.awaited || r.sentAt) return false;
  return now - Date.parse(r.at ?? '') < IN_FLIGHT_MS;
}

/** Marks the claim of `type` failed now: not sent; retried after RESEND_AFTER_MS. Best effort. */
export async function markSendFailed(api: MachineApi, m: Machine, type: string): Promise<void> {
  await api.patchStatus(m, { providerStatus: { emitted: { [type]: { failedAt: new Date().toISOString() } } } }).catch(() => undefined);
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
  const deferred = emission.after !== undefined && predecessorPending(m, emission.after, Date.now());
  const own = recordOf(m, emission.type);
  const failedAt = own?.key === emission.key && own.failedAt ? Date.parse(own.failedAt) : NaN;
  const backingOff = !deferred && Date.now() - failedAt < RESEND_AFTER_MS;
  if (deferred || backingOff || alreadyEmitted(m, emission.type, emission.key)) {
    const result = { sent: false, ...(deferred ? { deferred } : {}) };
    // Waiting for the predecessor: ask its claimant to confirm its send (once; with the status).
    const awaiting = deferred && !recordOf(m, emission.after!)?.awaited;
    const write = awaiting ? mergeProviderStatus(status, { emitted: { [emission.after!]: { awaited: true } } }) : status;
    const machine =
      Object.keys(write).length === 0 && !spec
        ? m
        : await api.patchStatus(m, write, awaiting ? m.metadata.resourceVersion : guardFor(m, status), spec);
    // Its send failed recently: not now, and nothing more is written. The delivery whose send
    // failed is being retried and claims it again after the hold; callers that must not go on
    // before it is sent (the node function's mirror) stop here, and this delivery is
    // acknowledged (SendHeld: see sink.ts).
    if (backingOff)
      throw new SendHeld(`${emission.type} not sent yet (failed at ${own!.failedAt}); next attempt after ${RESEND_AFTER_MS / 1000} s`);
    return { machine, ...result };
  }
  const merged = mergeProviderStatus(status, { emitted: { [emission.type]: claimRecord(emission.key) } });
  const claimed = await api.patchStatus(m, merged, m.metadata.resourceVersion, spec);
  try {
    await sink.send(emission.event());
  } catch (e) {
    await markSendFailed(api, claimed, emission.type);
    throw e;
  }
  // A successor waits for this one: tell it the send is over. Best effort (IN_FLIGHT_MS bounds its wait).
  if (recordOf(claimed, emission.type)?.awaited) {
    const sentAt = new Date().toISOString();
    const confirmed = await api
      .patchStatus(claimed, { providerStatus: { emitted: { [emission.type]: { sentAt } } } })
      .catch(() => undefined);
    return { machine: confirmed ?? claimed, sent: true };
  }
  return { machine: claimed, sent: true };
}

/**
 * `providerStatus.conditions` and `status.conditions` are arrays, which a merge patch replaces
 * whole: written from `m`, they must land on `m`'s version, or a condition another function set
 * meanwhile would be lost (409 instead; the retry re-reads).
 */
function guardFor(m: Machine, status: Record<string, unknown>): string | undefined {
  const ps = status.providerStatus as Record<string, unknown> | undefined;
  return 'conditions' in status || (ps && 'conditions' in ps) ? m.metadata.resourceVersion : undefined;
}

function mergeProviderStatus(status: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const ps = (status.providerStatus ?? {}) as Record<string, unknown>;
  const emitted = { ...((ps.emitted as object) ?? {}), ...((extra.emitted as object) ?? {}) };
  return { ...status, providerStatus: { ...ps, ...extra, emitted } };
}
