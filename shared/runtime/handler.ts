/**
 * The HTTP side of every function: decode the CloudEvent, call the reconcile, map the outcome.
 * Uses functions-framework's `http` signature because the `cloudEvent` one can only answer 200
 * or 500 (no 400 for malformed events, see the Knative reference).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CloudEventV1 } from 'cloudevents';
import { decodeCloudEvent } from '../../events/decode.js';
import { MalformedEventError } from '../../events/apiserver.js';
import { httpStatusOf, type Outcome } from './outcome.js';
import { createLogger, traceIdOf, type Logger } from './log.js';

export type Reconciler = (ev: CloudEventV1<unknown>, log: Logger) => Promise<Outcome>;

type Req = IncomingMessage & { rawBody?: Buffer; body?: unknown };

/** Wraps a reconciler as an HTTP handler (functions-framework `http` signature, or plain node:http). */
export function cloudEventHandler(fn: string, reconcile: Reconciler, logger: Logger = createLogger({ function: fn })) {
  return async (req: Req, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    let outcome: Outcome;
    let log = logger;
    try {
      if (req.method !== 'POST') {
        outcome = { kind: 'malformed', error: `method ${req.method} not allowed; POST a CloudEvent` };
      } else {
        const body = await readBody(req);
        const ev = decodeCloudEvent(req.headers, body);
        log = logger.with({
          eventId: ev.id,
          eventType: ev.type,
          subject: ev.subject,
          traceId: traceIdOf(ev.traceparent as string | undefined),
        });
        outcome = await reconcile(ev, log);
      }
    } catch (e) {
      // Anything thrown past the reconcile is unexpected: treat as transient so it is retried,
      // and log the message only — never a stack trace or request body.
      outcome = e instanceof MalformedEventError ? { kind: 'malformed', error: e.message } : { kind: 'retry', error: (e as Error).message };
    }
    const status = httpStatusOf(outcome);
    const level = status >= 500 ? 'warn' : status >= 400 ? 'warn' : 'info';
    log[level]('event handled', {
      outcome: outcome.kind,
      status,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      ...detail(outcome),
    });
    res.statusCode = status;
    if (status === 200) {
      res.end();
    } else {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ outcome: outcome.kind, ...detail(outcome) }));
    }
  };
}

function detail(o: Outcome): Record<string, string> {
  switch (o.kind) {
    case 'done':
      return o.note ? { note: o.note } : {};
    case 'terminal':
      return { reason: o.reason, message: o.message };
    case 'wait':
      return { reason: o.reason };
    case 'retry':
    case 'malformed':
      return { error: o.error };
  }
}

/** functions-framework keeps the raw bytes in `rawBody`; plain node:http needs reading. */
async function readBody(req: Req): Promise<string | undefined> {
  if (req.rawBody) return req.rawBody.toString('utf8');
  if (typeof req.body === 'string') return req.body;
  if (req.body && typeof req.body === 'object' && Object.keys(req.body).length > 0) return JSON.stringify(req.body);
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return chunks.length ? Buffer.concat(chunks).toString('utf8') : undefined;
}
