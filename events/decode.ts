/**
 * HTTP → CloudEvent, binary or structured mode. Node lower-cases header names, which is what
 * the cloudevents SDK needs to find extensions (Go-canonical `Ce-Kind` would be lost).
 *
 * The SDK decodes leniently (it fabricates a missing id, accepts any specversion and an id of
 * any type), so the required context attributes are checked here first, where the HTTP binding
 * puts them: the `ce-` headers in binary mode, the top-level members of the JSON envelope in
 * structured mode (never anything inside `data`). Any violation is a MalformedEventError (400).
 */
import { HTTP, type CloudEventV1 } from 'cloudevents';
import { MalformedEventError } from './apiserver.js';

/** The only CloudEvents version accepted (what Knative's adapters and Brokers send). */
export const SPEC_VERSION = '1.0';

/** The required context attributes, each a non-empty string (specversion exactly "1.0"). */
function checkAttributes(attrs: Record<string, unknown>, where: (name: string) => string): void {
  if (attrs.specversion !== SPEC_VERSION) {
    throw new MalformedEventError(
      `${where('specversion')} must be "${SPEC_VERSION}"${attrs.specversion === undefined ? ', missing' : `, got ${JSON.stringify(attrs.specversion)}`}`,
    );
  }
  for (const name of ['id', 'type', 'source']) {
    const v = attrs[name];
    if (typeof v !== 'string' || v === '') {
      throw new MalformedEventError(
        `${where(name)} must be a non-empty string${v === undefined ? ', missing' : `, got ${JSON.stringify(v)}`}`,
      );
    }
  }
}

export function decodeCloudEvent(headers: Record<string, string | string[] | undefined>, body: string | undefined): CloudEventV1<unknown> {
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) lower[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
  if (!body) throw new MalformedEventError('empty body');
  const contentType = lower['content-type'] ?? '';
  // The SDK's own mode detection, by content type.
  if (contentType.startsWith('application/cloudevents-batch')) throw new MalformedEventError('batched CloudEvents are not supported');
  let message: { headers: Record<string, string>; body: unknown };
  if (contentType.startsWith('application/cloudevents')) {
    let envelope: unknown;
    try {
      envelope = JSON.parse(body);
    } catch {
      throw new MalformedEventError('structured CloudEvent is not JSON');
    }
    if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) {
      throw new MalformedEventError('structured CloudEvent is not a JSON object');
    }
    checkAttributes(envelope as Record<string, unknown>, (name) => `structured CloudEvent attribute "${name}"`);
    message = { headers: lower, body: envelope }; // parsed once: the SDK takes the object
  } else {
    checkAttributes(
      { specversion: lower['ce-specversion'], id: lower['ce-id'], type: lower['ce-type'], source: lower['ce-source'] },
      (name) => `binary CloudEvent header ce-${name}`,
    );
    message = { headers: lower, body };
  }
  let ev;
  try {
    ev = HTTP.toEvent(message);
  } catch (e) {
    throw new MalformedEventError(`not a CloudEvent: ${(e as Error).message}`);
  }
  if (Array.isArray(ev)) throw new MalformedEventError('batched CloudEvents are not supported');
  // W3C trace context travels as a plain `traceparent` header in binary mode (the
  // distributed-tracing extension's HTTP binding); the SDK only maps `ce-` headers.
  const tp = lower['traceparent'];
  if (tp && ev.traceparent === undefined) return { ...(ev as CloudEventV1<unknown>), traceparent: tp } as CloudEventV1<unknown>;
  return ev as CloudEventV1<unknown>;
}
