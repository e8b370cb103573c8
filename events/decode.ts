/**
 * HTTP → CloudEvent, binary or structured mode. Node lower-cases header names, which is what
 * the cloudevents SDK needs to find extensions (Go-canonical `Ce-Kind` would be lost).
 */
import { HTTP, type CloudEventV1 } from 'cloudevents';
import { MalformedEventError } from './apiserver.js';

export function decodeCloudEvent(headers: Record<string, string | string[] | undefined>, body: string | undefined): CloudEventV1<unknown> {
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) lower[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
  if (!body) throw new MalformedEventError('empty body');
  let ev;
  try {
    ev = HTTP.toEvent({ headers: lower, body });
  } catch (e) {
    throw new MalformedEventError(`not a CloudEvent: ${(e as Error).message}`);
  }
  if (Array.isArray(ev)) throw new MalformedEventError('batched CloudEvents are not supported');
  // toEvent fabricates id/time when missing (non-strict); a missing id means a malformed event.
  const hasId = lower['ce-id'] !== undefined || /"id"\s*:/.test(body);
  if (!hasId || !ev.type || !ev.source) throw new MalformedEventError('CloudEvent lacks id, type or source');
  // W3C trace context travels as a plain `traceparent` header in binary mode (the
  // distributed-tracing extension's HTTP binding); the SDK only maps `ce-` headers.
  const tp = lower['traceparent'];
  if (tp && ev.traceparent === undefined) return { ...(ev as CloudEventV1<unknown>), traceparent: tp } as CloudEventV1<unknown>;
  return ev as CloudEventV1<unknown>;
}
