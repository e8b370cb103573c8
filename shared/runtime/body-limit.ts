/**
 * The bound on an event's size. The largest Kubernetes object is ~1.5 MB (etcd's request
 * limit), so a Resource-mode event is below that plus its envelope; anything bigger is refused
 * with 413 before it is held in memory: a declared Content-Length over the bound without
 * reading a byte, a chunked body as soon as the bytes counted pass it. Reading stops there:
 * TCP flow control holds the client back while it reads the 413, and the connection is closed
 * LINGER_MS later (closed at once on unread bytes, it would be reset, and a client still
 * sending — Go's net/http among them — may then report a broken pipe, a network error Knative
 * retries, instead of the 413 it dead-letters). Configured by MAX_EVENT_BYTES (default 3 MiB).
 *
 * Nothing here reads the environment at load: a function's startup snapshot may hold this
 * module already evaluated (scripts/snapshot.ts).
 */
import type { IncomingMessage } from 'node:http';

export const DEFAULT_MAX_EVENT_BYTES = 3 * 1024 * 1024;
/** How long a connection whose body was refused unread stays open for the client to read the answer. */
export const LINGER_MS = 2000;

/** MAX_EVENT_BYTES: a positive whole number of bytes; unset or empty → the default. */
export function maxEventBytesFromEnv(env: NodeJS.ProcessEnv): number {
  const v = env.MAX_EVENT_BYTES?.trim();
  if (v === undefined || v === '') return DEFAULT_MAX_EVENT_BYTES;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) {
    throw new Error(`MAX_EVENT_BYTES must be a positive whole number of bytes, got ${JSON.stringify(env.MAX_EVENT_BYTES)}`);
  }
  return n;
}

/** The request body is over the bound (→ 413). */
export class BodyTooLargeError extends Error {
  constructor(limit: number, declared?: number) {
    super(
      declared !== undefined
        ? `event body of ${declared} bytes is over the limit of ${limit} bytes (MAX_EVENT_BYTES)`
        : `event body is over the limit of ${limit} bytes (MAX_EVENT_BYTES)`,
    );
  }
}

/** The request cannot be read as sent (→ 400). */
export class BodyUnreadableError extends Error {}

/** The client went away before its body was read: nobody to answer. */
export class BodyAbortedError extends Error {}

/**
 * Refusals decided from the headers alone: a declared Content-Length over `limit`, or a
 * Content-Encoding (the body would have to be inflated; Knative never compresses requests).
 */
export function refuseFromHeaders(req: IncomingMessage, limit: number): Error | undefined {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return new BodyTooLargeError(limit, Number(declared));
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    return new BodyUnreadableError(`Content-Encoding ${JSON.stringify(encoding)} is not supported: send the event uncompressed`);
  }
  return undefined;
}

/**
 * Reads the body of `req`, at most `limit` bytes. Rejects with BodyTooLargeError before reading
 * when the declared length is over the bound, or as soon as the bytes read pass it — then the
 * stream is paused and nothing more is read (the caller answers and closes the connection).
 */
export function readBoundedBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const refusal = refuseFromHeaders(req, limit);
    if (refusal) return reject(refusal);
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (e?: Error) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      if (!e) return resolve(Buffer.concat(chunks, size));
      chunks.length = 0;
      req.pause();
      reject(e);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) return finish(new BodyTooLargeError(limit));
      chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => finish());
    // The listeners stay: a late socket error is then handled here, not uncaught.
    req.on('error', (e) => finish(new BodyAbortedError(e.message)));
    req.on('close', () => finish(new BodyAbortedError('connection closed before the body was read')));
  });
}

/**
 * For a refusal answered while the client is still sending (the answer written but not ended,
 * see handler.ts): nothing more is read, and the connection is closed LINGER_MS later, or
 * earlier by the client.
 */
export function closeAfterLinger(req: IncomingMessage, lingerMs = LINGER_MS): void {
  req.pause();
  const socket = req.socket;
  const timer = setTimeout(() => socket.destroy(), lingerMs);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
