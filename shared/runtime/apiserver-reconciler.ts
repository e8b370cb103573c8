/**
 * The common shape of every ApiServerSource-driven function: accept only the expected kinds
 * (anything else is malformed → 400), run the reconcile, and turn transient failures (API
 * 5xx/429/409, network, event sink) into `retry` (→ 503, Knative redelivers).
 */
import type { CloudEventV1 } from 'cloudevents';
import { parseApiServerEvent, MalformedEventError, type ApiServerEvent } from '../../events/apiserver.js';
import { isTransient } from '../kube/rest.js';
import { SendHeld, SinkError } from './sink.js';
import { done, malformed, retry, type Outcome } from './outcome.js';
import type { Logger } from './log.js';
import type { Reconciler } from './handler.js';

export interface ExpectedKind {
  apiVersion: string;
  kind: string;
}

export function apiServerReconciler(kinds: ExpectedKind[], reconcile: (ev: ApiServerEvent, log: Logger) => Promise<Outcome>): Reconciler {
  return async (ce: CloudEventV1<unknown>, log: Logger): Promise<Outcome> => {
    let ev: ApiServerEvent;
    try {
      ev = parseApiServerEvent(ce);
      if (!kinds.some((k) => k.apiVersion === ev.apiVersion && k.kind === ev.kind)) {
        throw new MalformedEventError(
          `expected ${kinds.map((k) => `${k.apiVersion} ${k.kind}`).join(' or ')}, got ${ev.apiVersion} ${ev.kind}`,
        );
      }
    } catch (e) {
      if (e instanceof MalformedEventError) return malformed(e.message);
      throw e;
    }
    try {
      return await reconcile(ev, log);
    } catch (e) {
      if (e instanceof SendHeld) return done(`follow-up held: ${e.message}`);
      if (isTransient(e) || e instanceof SinkError) return retry((e as Error).message);
      throw e;
    }
  };
}
