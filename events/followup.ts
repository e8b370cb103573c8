/**
 * Outgoing follow-up events: the builder (types and data schemas in followup-data.ts). Listed in
 * docs/EVENTS.md. Every event: subject `<namespace>/<name>` of the Machine, extensions carrying
 * its identity, `traceparent` carried over from the event that caused it. The golden image
 * events (`machine.image.cached`/`evicted`) concern a DataVolume shared by many Machines: their
 * subject is that DataVolume's `<namespace>/<name>`, with no Machine extensions.
 */
import type * as z from 'zod';
import { CloudEvent, type CloudEventV1 } from 'cloudevents';
import { MalformedEventError, jsonDataOf } from './apiserver.js';
import { FollowUpData, type FollowUpDataOf, type FollowUpType } from './followup-data.js';

export { FOLLOWUP_PREFIX, FollowUpType, FollowUpData, type FollowUpDataOf } from './followup-data.js';

/** Source attribute of our events: which function emitted it. */
export const followUpSource = (fn: string): string => `/kubevirt-machine-functions/${fn}`;

export interface FollowUpContext {
  function: string;
  traceparent?: string;
  /** K_CE_OVERRIDES extensions, applied last. */
  overrides?: Record<string, string>;
}

/** Builds a validated follow-up CloudEvent. Throws if the data does not match its schema. */
export function buildFollowUp<T extends FollowUpType>(
  type: T,
  data: FollowUpDataOf<T>,
  ctx: FollowUpContext,
): CloudEvent<FollowUpDataOf<T>> {
  const parsed = (FollowUpData[type] as z.ZodType).parse(data) as FollowUpDataOf<T>;
  const m = 'machine' in parsed ? parsed.machine : undefined;
  const about = m ?? (parsed as { golden: { namespace: string; name: string } }).golden;
  return new CloudEvent<FollowUpDataOf<T>>({
    type,
    source: followUpSource(ctx.function),
    subject: `${about.namespace}/${about.name}`,
    datacontenttype: 'application/json',
    data: parsed,
    ...(m ? { machineuid: m.uid, machinenamespace: m.namespace, machinename: m.name } : {}),
    ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
    ...(ctx.overrides ?? {}),
  });
}

/**
 * The data of an incoming follow-up of `type` (a function triggered by another's follow-up,
 * e.g. the node function by `machine.ready`), validated against its schema. Like an
 * ApiServerSource event it is only a key: the receiver re-reads the Machine it names. Anything
 * else is a MalformedEventError (400).
 */
export function parseFollowUp<T extends FollowUpType>(ce: CloudEventV1<unknown>, type: T): FollowUpDataOf<T> {
  if (ce.type !== type) throw new MalformedEventError(`expected ${type}, got ${JSON.stringify(ce.type)}`);
  const data = jsonDataOf(ce);
  const r = (FollowUpData[type] as z.ZodType).safeParse(data);
  if (!r.success) throw new MalformedEventError(`${type} data does not match its schema: ${r.error.message.slice(0, 300)}`);
  return r.data as FollowUpDataOf<T>;
}
