/**
 * Outgoing follow-up events: the builder (types and data schemas in followup-data.ts). Listed in
 * docs/EVENTS.md. Every event: subject `<namespace>/<name>` of the Machine, extensions carrying
 * its identity, `traceparent` carried over from the event that caused it.
 */
import type * as z from 'zod';
import { CloudEvent } from 'cloudevents';
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
  const m = parsed.machine;
  return new CloudEvent<FollowUpDataOf<T>>({
    type,
    source: followUpSource(ctx.function),
    subject: `${m.namespace}/${m.name}`,
    datacontenttype: 'application/json',
    data: parsed,
    machineuid: m.uid,
    machinenamespace: m.namespace,
    machinename: m.name,
    ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
    ...(ctx.overrides ?? {}),
  });
}
