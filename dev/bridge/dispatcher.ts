/**
 * HTTP delivery with Knative's retry semantics (pkg/kncloudevents: SelectiveRetry,
 * RetryConfigFromDeliverySpec, the MT broker filter's reply handling).
 *
 *   2xx                                    success (202 and empty bodies are plain acks)
 *   2xx with a CloudEvent body             success + reply (when replies are wanted)
 *   2xx with any other non-empty body      502, as the MT broker filter turns it → retried
 *   network error, timeout, 404, 408, 409, 429, 5xx   retried
 *   3xx and other 4xx                      not retried
 *
 * Backoff before retry n (n = 0 for the first retry, as go-retryablehttp counts):
 * exponential delay·2^n, linear delay·n (so linear retries the first time at once).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { eventFromHttp, InvalidEventError, looksLikeCloudEvent, type BridgeEvent } from './cloudevent.js';
import { sleep } from '../kube/watch.js';
import type { Delivery } from './manifests.js';

export interface AttemptResult {
  /** HTTP status as judged for retrying; 0 = no response (network error, timeout). */
  status: number;
  error?: string;
  reply?: BridgeEvent;
}

/** Bounds concurrent HTTP attempts (waiting for a backoff does not hold a slot). */
export class Limiter {
  active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(readonly max: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

export function isRetryable(status: number): boolean {
  return status === 0 || status >= 500 || status === 404 || status === 408 || status === 409 || status === 429;
}

export function backoffMs(delivery: Pick<Delivery, 'backoffPolicy' | 'backoffDelayMs'>, retryIndex: number): number {
  return delivery.backoffPolicy === 'linear' ? delivery.backoffDelayMs * retryIndex : delivery.backoffDelayMs * 2 ** retryIndex;
}

/** One POST. `wantReplies` applies the broker filter's reading of 2xx bodies. */
export async function postOnce(
  url: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
  opts: { timeoutMs?: number; signal: AbortSignal; wantReplies: boolean },
): Promise<AttemptResult> {
  const signals = [opts.signal];
  if (opts.timeoutMs) signals.push(AbortSignal.timeout(opts.timeoutMs));
  let res: Response;
  let payload: Buffer;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers,
      body: body ? new Uint8Array(body) : undefined,
      redirect: 'manual',
      signal: AbortSignal.any(signals),
    });
    payload = Buffer.from(await res.arrayBuffer());
  } catch (e) {
    const err = e as Error;
    const why =
      err.name === 'TimeoutError' ? `timed out after ${opts.timeoutMs} ms` : ((err.cause as Error | undefined)?.message ?? err.message);
    return { status: 0, error: why };
  }
  const status = res.status;
  // A failure's body (e.g. our functions' {"outcome":"malformed",…}) is what a dead letter should show.
  if (status < 200 || status >= 300) return payload.length > 0 ? { status, error: payload.toString('utf8', 0, 512).trim() } : { status };
  if (!opts.wantReplies || status === 202 || payload.length === 0) return { status };
  const resHeaders = Object.fromEntries(res.headers) as IncomingHttpHeaders;
  if (!looksLikeCloudEvent(resHeaders))
    return { status: 502, error: `answered ${status} with a body that is not a CloudEvent (the broker treats that as a failed delivery)` };
  try {
    return { status, reply: eventFromHttp(resHeaders, payload) };
  } catch (e) {
    if (e instanceof InvalidEventError) return { status: 502, error: `answered ${status} with a malformed CloudEvent: ${e.message}` };
    throw e;
  }
}

export interface SendOutcome {
  ok: boolean;
  last: AttemptResult;
  attempts: number;
}

/** Attempts until success, a non-retryable answer, `delivery.retry` retries, or stop. */
export async function sendWithRetries(
  url: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
  delivery: Pick<Delivery, 'retry' | 'backoffPolicy' | 'backoffDelayMs' | 'timeoutMs'>,
  opts: {
    limiter: Limiter;
    signal: AbortSignal;
    backoffScale: number;
    wantReplies: boolean;
    retryable?: (status: number) => boolean;
    onRetry?: (last: AttemptResult) => void;
  },
): Promise<SendOutcome> {
  const retryable = opts.retryable ?? isRetryable;
  let last: AttemptResult = { status: 0, error: 'not attempted' };
  for (let attempt = 0; attempt <= delivery.retry; attempt++) {
    if (attempt > 0) {
      opts.onRetry?.(last);
      await sleep(backoffMs(delivery, attempt - 1) * opts.backoffScale, opts.signal);
    }
    if (opts.signal.aborted) return { ok: false, last: { status: 0, error: 'bridge stopped' }, attempts: attempt };
    last = await opts.limiter.run(() =>
      postOnce(url, headers, body, { timeoutMs: delivery.timeoutMs, signal: opts.signal, wantReplies: opts.wantReplies }),
    );
    if (last.status >= 200 && last.status < 300) return { ok: true, last, attempts: attempt + 1 };
    if (!retryable(last.status)) return { ok: false, last, attempts: attempt + 1 };
  }
  return { ok: false, last, attempts: delivery.retry + 1 };
}
