/**
 * The HTTP side of every function: decode the CloudEvent, call the reconcile, map the outcome.
 * Uses functions-framework's `http` signature because the `cloudEvent` one can only answer 200
 * or 500 (no 400 for malformed events, see the Knative reference).
 *
 * Bodies are bounded (MAX_EVENT_BYTES, body-limit.ts). functions-framework's Express app reads
 * and parses every body before a handler runs (up to 1 GB), so the server the image runs puts
 * `boundedBodies` in front of it (scripts/serve.ts); under functions-framework's own CLI the
 * handler can only refuse an oversized body after it was read.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { CloudEventV1 } from 'cloudevents';
import { decodeCloudEvent } from '../../events/decode.js';
import { MalformedEventError } from '../../events/apiserver.js';
import { httpStatusOf, type Outcome } from './outcome.js';
import { createLogger, traceIdOf, type Logger } from './log.js';
import {
  BodyAbortedError,
  BodyTooLargeError,
  BodyUnreadableError,
  closeAfterLinger,
  maxEventBytesFromEnv,
  readBoundedBody,
  refuseFromHeaders,
} from './body-limit.js';

export type Reconciler = (ev: CloudEventV1<unknown>, log: Logger) => Promise<Outcome>;

type Req = IncomingMessage & { rawBody?: Buffer; body?: unknown };

/**
 * Wraps a reconciler as an HTTP handler (functions-framework `http` signature, or plain node:http).
 * Reads MAX_EVENT_BYTES when called, i.e. when the function's module loads at process start.
 */
export function cloudEventHandler(
  fn: string,
  reconcile: Reconciler,
  logger: Logger = createLogger({ function: fn }),
  maxEventBytes = maxEventBytesFromEnv(process.env),
) {
  return async (req: Req, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    let outcome: Outcome;
    let log = logger;
    let connection: Connection = 'keep';
    try {
      if (req.method !== 'POST') {
        outcome = { kind: 'malformed', error: `method ${req.method} not allowed; POST a CloudEvent` };
      } else {
        const body = await readBody(req, maxEventBytes);
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
      if (e instanceof BodyAbortedError) return void res.destroy();
      if ((e instanceof BodyTooLargeError || e instanceof BodyUnreadableError) && !req.complete) connection = 'linger';
      outcome = refusal(e) ?? { kind: 'retry', error: (e as Error).message };
    }
    answer(req, res, log, outcome, started, connection);
  };
}

/** The outcome of an error that makes the request itself unusable, if `e` is one. */
function refusal(e: unknown): Outcome | undefined {
  if (e instanceof BodyTooLargeError) return { kind: 'oversized', error: e.message };
  if (e instanceof MalformedEventError || e instanceof BodyUnreadableError) return { kind: 'malformed', error: e.message };
  return undefined;
}

/**
 * What happens to the connection after the answer: `keep` (Node's default: reused when the
 * client wants), `close`, or — for a body refused while it is still arriving — `linger`: the
 * answer is written whole (with its Content-Length) but not ended, since Node's server would
 * then close the socket on the unread body, a reset the client may see before the answer;
 * nothing more is read and the connection closes LINGER_MS later (body-limit.ts).
 */
type Connection = 'keep' | 'close' | 'linger';

/** Logs the outcome (one line per request) and answers with its status. */
function answer(
  req: IncomingMessage,
  res: ServerResponse,
  log: Logger,
  outcome: Outcome,
  started: number,
  connection: Connection,
  lingerMs?: number,
): void {
  const status = httpStatusOf(outcome);
  const level = status >= 400 ? 'warn' : 'info';
  log[level]('event handled', {
    outcome: outcome.kind,
    status,
    durationMs: Math.round((performance.now() - started) * 10) / 10,
    ...detail(outcome),
  });
  res.statusCode = status;
  if (connection === 'close') res.setHeader('connection', 'close');
  const body = status === 200 ? '' : JSON.stringify({ outcome: outcome.kind, ...detail(outcome) });
  if (body) res.setHeader('content-type', 'application/json');
  if (connection === 'linger') {
    res.setHeader('content-length', Buffer.byteLength(body));
    res.write(body);
    closeAfterLinger(req, lingerMs);
  } else {
    res.end(body);
  }
}

/**
 * Puts the body bound in front of `listener` (functions-framework's Express app): reads each
 * body itself, at most `maxEventBytes`, and hands the request on fully read, the bytes in
 * `rawBody` (where functions-framework keeps them; its body parsers skip a request already
 * read). Over the bound → 413, an encoded body → 400, the rest of the body left unread
 * (body-limit.ts). For `Expect: 100-continue` (the server's `checkContinue` event) the bound is
 * checked before the client is told to send the body; refused there, the connection is closed.
 */
export function boundedBodies(
  listener: RequestListener,
  opts: { maxEventBytes: number; log: Logger; lingerMs?: number },
): (req: IncomingMessage, res: ServerResponse, expectsContinue?: boolean) => void {
  return (req, res, expectsContinue = false) => {
    const started = performance.now();
    const refuse = (e: unknown, bodyNotSent = false) => {
      if (e instanceof BodyAbortedError) return void res.destroy();
      const outcome = refusal(e) ?? { kind: 'retry' as const, error: (e as Error).message };
      answer(req, res, opts.log, outcome, started, bodyNotSent ? 'close' : req.complete ? 'keep' : 'linger', opts.lingerMs);
    };
    if (expectsContinue) {
      const early = refuseFromHeaders(req, opts.maxEventBytes);
      if (early) return refuse(early, true);
      res.writeContinue();
    }
    readBoundedBody(req, opts.maxEventBytes).then((body) => {
      (req as Req).rawBody = body;
      listener(req, res);
    }, refuse);
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
    case 'oversized':
      return { error: o.error };
  }
}

/**
 * functions-framework keeps the raw bytes in `rawBody` (read by boundedBodies, or by its own
 * body parsers: then only checked against the bound afterwards); plain node:http needs reading.
 */
async function readBody(req: Req, limit: number): Promise<string | undefined> {
  if (req.rawBody) {
    if (req.rawBody.length > limit) throw new BodyTooLargeError(limit, req.rawBody.length);
    return req.rawBody.toString('utf8');
  }
  if (typeof req.body === 'string') return req.body;
  if (req.body && typeof req.body === 'object' && Object.keys(req.body).length > 0) return JSON.stringify(req.body);
  const body = await readBoundedBody(req, limit);
  return body.length ? body.toString('utf8') : undefined;
}
