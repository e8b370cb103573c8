/**
 * The bridge's own CloudEvent model and its HTTP binding (binary and structured mode).
 *
 * Attributes are kept as strings, as they travel in binary-mode headers: the broker routes on
 * attributes only and never needs typed values, and passing strings through keeps the event
 * byte-for-byte what its producer sent. Data stays raw bytes for the same reason.
 * Header values are not percent-decoded or -encoded (functions-framework does not decode either).
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface BridgeEvent {
  /** Lower-case attribute names: specversion, id, source, type, subject, time, datacontenttype, extensions… */
  attributes: Record<string, string>;
  data?: Buffer;
  /** W3C trace context, carried as a plain header beside the event (not an attribute). */
  traceparent?: string;
}

/** Not a CloudEvent we can accept; the ingress answers 400. */
export class InvalidEventError extends Error {}

const REQUIRED = ['specversion', 'id', 'source', 'type'] as const;
const ATTRIBUTE_NAME = /^[a-z0-9]+$/;
/** Names that are HTTP metadata in binary mode, never attributes. */
const NOT_ATTRIBUTES = new Set(['data', 'data_base64']);

/** Throws InvalidEventError unless the required attributes are present and well-formed. */
export function validateEvent(ev: BridgeEvent): BridgeEvent {
  for (const name of REQUIRED) {
    if (!ev.attributes[name]) throw new InvalidEventError(`CloudEvent lacks required attribute "${name}"`);
  }
  if (ev.attributes.specversion !== '1.0') throw new InvalidEventError(`unsupported specversion "${ev.attributes.specversion}"`);
  for (const name of Object.keys(ev.attributes)) {
    if (!ATTRIBUTE_NAME.test(name)) throw new InvalidEventError(`invalid attribute name "${name}"`);
  }
  return ev;
}

const headerValue = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v.join(',') : v);

/** True when the headers announce a CloudEvent in either content mode. */
export function looksLikeCloudEvent(headers: IncomingHttpHeaders): boolean {
  return headers['ce-specversion'] !== undefined || /^application\/cloudevents\+json/i.test(headerValue(headers['content-type']) ?? '');
}

/** Parses an HTTP request or response (Node's lower-cased headers) into an event; throws InvalidEventError. */
export function eventFromHttp(headers: IncomingHttpHeaders, body: Buffer): BridgeEvent {
  const contentType = headerValue(headers['content-type']) ?? '';
  const traceparent = headerValue(headers.traceparent);
  if (/^application\/cloudevents-batch\+json/i.test(contentType)) throw new InvalidEventError('batched CloudEvents are not supported');
  if (/^application\/cloudevents\+json/i.test(contentType))
    return validateEvent({ ...structured(body), ...(traceparent ? { traceparent } : {}) });
  if (headers['ce-specversion'] === undefined)
    throw new InvalidEventError('no CloudEvent: neither ce-specversion header nor application/cloudevents+json body');
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const v = headerValue(value);
    if (name.startsWith('ce-') && v !== undefined) attributes[name.slice(3)] = v;
  }
  if (contentType) attributes.datacontenttype = contentType;
  return validateEvent({ attributes, data: body.length > 0 ? body : undefined, ...(traceparent ? { traceparent } : {}) });
}

function structured(body: Buffer): BridgeEvent {
  let envelope: unknown;
  try {
    envelope = JSON.parse(body.toString('utf8'));
  } catch {
    throw new InvalidEventError('structured CloudEvent body is not JSON');
  }
  if (!envelope || typeof envelope !== 'object' || Array.isArray(envelope))
    throw new InvalidEventError('structured CloudEvent is not a JSON object');
  const env = envelope as Record<string, unknown>;
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (NOT_ATTRIBUTES.has(name) || value === null || value === undefined) continue;
    attributes[name] = typeof value === 'string' ? value : String(value);
  }
  let data: Buffer | undefined;
  if (typeof env.data_base64 === 'string') data = Buffer.from(env.data_base64, 'base64');
  else if (env.data !== undefined) {
    // Spec: `data` is the JSON value itself when the content type is JSON (or absent); otherwise a string.
    const json = !attributes.datacontenttype || /[/+]json(;|$)/i.test(attributes.datacontenttype);
    data = Buffer.from(json || typeof env.data !== 'string' ? JSON.stringify(env.data) : env.data, 'utf8');
  }
  return { attributes, data };
}

/** Binary-mode headers for `ev`: `ce-<attr>` for every attribute, `content-type` for datacontenttype. */
export function binaryHeaders(ev: BridgeEvent): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(ev.attributes)) {
    if (name === 'datacontenttype') headers['content-type'] = value;
    else headers[`ce-${name}`] = value;
  }
  if (ev.traceparent) headers.traceparent = ev.traceparent;
  return headers;
}

/**
 * Now as RFC 3339 with nanosecond digits, the way Go's `time.RFC3339Nano` prints it (the
 * ApiServerSource's `time` and the broker's arrival time), from the millisecond clock plus the
 * monotonic clock's sub-millisecond part.
 */
export function rfc3339Nano(now = Date.now()): string {
  const subMs = Number(process.hrtime.bigint() % 1_000_000n);
  const iso = new Date(now).toISOString(); // …:SS.mmmZ
  return `${iso.slice(0, -1)}${String(subMs).padStart(6, '0')}Z`.replace(/\.?0+Z$/, 'Z');
}

/** A short label for log lines. */
export function describe(ev: BridgeEvent): string {
  return `${ev.attributes.type} ${ev.attributes.subject ?? ev.attributes.source}`;
}
