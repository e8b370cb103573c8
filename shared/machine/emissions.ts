/**
 * Follow-up events emitted once per transition of a Machine.
 *
 * Before sending, the emission is claimed in `status.providerStatus.emitted[type]` with a
 * resourceVersion precondition: of two concurrent deliveries only one wins the claim (the
 * other gets 409 and is retried, then sees the record). If the send fails the claim is
 * released, so Knative's redelivery sends it again. The claim patch also carries whatever
 * status the caller wants written, so "status set" and "claim" cost one request.
 *
 * The status is the Machine's state and is written whatever happens to the event: a follow-up
 * that cannot be sent yet (the sink is down, or its causal predecessor `after` has not been
 * emitted) delays only itself. Nothing but this module reads `emitted`.
 */
import type { CloudEvent } from 'cloudevents';
import type { MachineApi } from './api.js';
import type { Machine } from './types.js';
import type { EventSink } from '../runtime/sink.js';

export function alreadyEmitted(m: Machine, type: string, key: string): boolean {
  return m.status?.providerStatus?.emitted?.[type]?.key === key;
}

export interface EmitOnceResult {
  machine: Machine;
  sent: boolean;
  /** The follow-up waits for its predecessor (`after`) to be emitted first; the status was written. */
  deferred?: boolean;
}

/**
 * Writes `status` and claims `type`/`key`, then sends `event`. Throws (transient) when the
 * Machine changed meanwhile or the sink failed. Without a new transition only `status` is written
 * (and only when `status` is non-empty).
 */
export async function emitOnce(
  api: MachineApi,
  sink: EventSink,
  m: Machine,
  emission: {
    type: string;
    key: string;
    event: () => CloudEvent<unknown>;
    /** Causal order for consumers: send only once a follow-up of this type was emitted for the Machine. */
    after?: string;
  },
  status: Record<string, unknown> = {},
  /** Machine spec fields to write in the same patch (e.g. providerID). */
  spec?: Record<string, unknown>,
): Promise<EmitOnceResult> {
  const deferred = emission.after !== undefined && !m.status?.providerStatus?.emitted?.[emission.after];
  if (deferred || alreadyEmitted(m, emission.type, emission.key)) {
    const result = { sent: false, ...(deferred ? { deferred } : {}) };
    if (Object.keys(status).length === 0 && !spec) return { machine: m, ...result };
    return { machine: await api.patchStatus(m, status, guardFor(m, status), spec), ...result };
  }
  const claim = { key: emission.key, at: new Date().toISOString() };
  const merged = mergeProviderStatus(status, { emitted: { [emission.type]: claim } });
  const claimed = await api.patchStatus(m, merged, m.metadata.resourceVersion, spec);
  try {
    await sink.send(emission.event());
  } catch (e) {
    await api.patchStatus(claimed, { providerStatus: { emitted: { [emission.type]: null } } }).catch(() => undefined);
    throw e;
  }
  return { machine: claimed, sent: true };
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
