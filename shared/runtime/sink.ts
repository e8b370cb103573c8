/**
 * Follow-up event delivery to K_SINK in binary mode. Unlike the cloudevents SDK's httpTransport
 * (which resolves on any status), a non-2xx or a network error rejects, so the function answers
 * 5xx and Knative redelivers the triggering event.
 *
 * Sent with node:http(s) over one keep-alive agent, not `fetch`: undici's per-request cost (web
 * streams, AbortSignal timers) was the largest single share of the machine function's CPU per
 * event in `npm run bench`, and loading it on the first send added to the first event's latency.
 */
import http from 'node:http';
import https from 'node:https';
import { HTTP, type CloudEvent } from 'cloudevents';

export interface EventSink {
  send(ev: CloudEvent<unknown>): Promise<void>;
}

export class SinkError extends Error {}

/**
 * A follow-up that is not sent now because its last send failed moments ago (emissions.ts holds
 * it for a few seconds). The delivery whose send failed is retried (503) and sends it; every
 * other delivery meanwhile is acknowledged (2xx) with whatever state it wrote: answering those
 * 503 too made each Machine write during a sink outage a burst of Knative retries.
 */
export class SendHeld extends SinkError {}

/** POSTs to `url`; a Broker ingress answers 202. */
export function httpSink(url: string, timeoutMs = 10_000): EventSink {
  const target = new URL(url);
  const mod = target.protocol === 'https:' ? https : http;
  const agent = new mod.Agent({ keepAlive: true });
  return {
    send(ev) {
      const msg = HTTP.binary(ev);
      const body = Buffer.from(msg.body as string);
      const headers: Record<string, string> = { ...(msg.headers as Record<string, string>), 'content-length': String(body.length) };
      // Propagate W3C trace context as the plain header tracing systems read, too.
      if (typeof ev.traceparent === 'string') headers.traceparent = ev.traceparent;
      return new Promise<void>((resolve, reject) => {
        const req = mod.request(target, { method: 'POST', headers, agent, timeout: timeoutMs }, (res) => {
          res.resume(); // the body is not needed; drain it so the connection is reused
          res.on('error', (e) => reject(new SinkError(`event sink unreachable: ${e.message}`)));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve();
            else reject(new SinkError(`event sink answered ${status} for ${ev.type}`));
          });
        });
        req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
        req.on('error', (e) => reject(new SinkError(`event sink unreachable: ${e.message}`)));
        req.end(body);
      });
    },
  };
}

/** The sink from `K_SINK`; without one, events are logged as dropped (local runs without a sink). */
export function sinkFromEnv(env: NodeJS.ProcessEnv = process.env, log: (msg: string, f: object) => void = () => {}): EventSink {
  if (env.K_SINK) return httpSink(env.K_SINK);
  return {
    async send(ev) {
      log('no K_SINK configured; follow-up event not delivered', { type: ev.type, subject: ev.subject });
    },
  };
}

/** `K_CE_OVERRIDES` extensions (SinkBinding), e.g. `{"extensions":{"cluster":"prod"}}`. */
export function ceOverridesFromEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (!env.K_CE_OVERRIDES) return {};
  try {
    const ext = JSON.parse(env.K_CE_OVERRIDES)?.extensions;
    return ext && typeof ext === 'object' ? (ext as Record<string, string>) : {};
  } catch {
    return {};
  }
}
