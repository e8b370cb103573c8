/**
 * Follow-up event delivery to K_SINK in binary mode. Unlike the cloudevents SDK's httpTransport
 * (which resolves on any status), a non-2xx or a network error rejects, so the function answers
 * 5xx and Knative redelivers the triggering event.
 */
import { HTTP, type CloudEvent } from 'cloudevents';

export interface EventSink {
  send(ev: CloudEvent<unknown>): Promise<void>;
}

export class SinkError extends Error {}

/** POSTs to `url`; a Broker ingress answers 202. */
export function httpSink(url: string, timeoutMs = 10_000): EventSink {
  return {
    async send(ev) {
      const msg = HTTP.binary(ev);
      const headers = { ...(msg.headers as Record<string, string>) };
      // Propagate W3C trace context as the plain header tracing systems read, too.
      if (typeof ev.traceparent === 'string') headers.traceparent = ev.traceparent;
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers,
          body: msg.body as string,
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (e) {
        throw new SinkError(`event sink unreachable: ${(e as Error).message}`);
      }
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) throw new SinkError(`event sink answered ${res.status} for ${ev.type}`);
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
