/**
 * PingSource, locally: a tick every `intervalMs` instead of the cron `schedule` (local runs want
 * a resync soon, not on the wall clock). The event is the one the Knative mt-ping adapter sends.
 */
import { randomUUID } from 'node:crypto';
import { rfc3339Nano, type BridgeEvent } from './cloudevent.js';
import type { PingSourceSpec } from './manifests.js';

export function pingEvent(spec: PingSourceSpec): BridgeEvent {
  return {
    attributes: {
      ...(spec.contentType ? { datacontenttype: spec.contentType } : {}),
      specversion: '1.0',
      id: randomUUID(),
      source: `/apis/v1/namespaces/${spec.namespace}/pingsources/${spec.name}`,
      type: 'dev.knative.sources.ping',
      time: rfc3339Nano(),
      ...spec.extensions,
    },
    data: spec.data,
  };
}

/** Emits a tick every `intervalMs` until stopped. */
export function startPingSource(spec: PingSourceSpec, intervalMs: number, emit: (ev: BridgeEvent) => void): { stop(): void } {
  const timer = setInterval(() => emit(pingEvent(spec)), intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
