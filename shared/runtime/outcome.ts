/**
 * The one outcome type of every reconcile, and the one place it becomes an HTTP status.
 *
 *   done      handled (nothing to do, or converged)                → 200, event acknowledged
 *   terminal  permanent fault, already reported on the object      → 200, never retried
 *   wait      progress depends on something asynchronous (e.g. the
 *             VM is still being deleted): ask for redelivery       → 503, Knative retries with backoff
 *   retry     transient failure (API 5xx/429/conflict, network,
 *             event sink down)                                     → 503, Knative retries
 *   malformed the event itself is unusable                         → 400, dead-lettered, no retry
 *   oversized the request body is over MAX_EVENT_BYTES (refused
 *             before it is read whole, see body-limit.ts)           → 413, dead-lettered, no retry
 *
 * A Kubernetes client error's own status code never leaks out as ours.
 */
export type Outcome =
  | { kind: 'done'; note?: string }
  | { kind: 'terminal'; reason: string; message: string }
  | { kind: 'wait'; reason: string }
  | { kind: 'retry'; error: string }
  | { kind: 'malformed'; error: string }
  | { kind: 'oversized'; error: string };

export const done = (note?: string): Outcome => ({ kind: 'done', note });
export const terminal = (reason: string, message: string): Outcome => ({ kind: 'terminal', reason, message });
export const wait = (reason: string): Outcome => ({ kind: 'wait', reason });
export const retry = (error: string): Outcome => ({ kind: 'retry', error });
export const malformed = (error: string): Outcome => ({ kind: 'malformed', error });
export const oversized = (error: string): Outcome => ({ kind: 'oversized', error });

export function httpStatusOf(o: Outcome): number {
  switch (o.kind) {
    case 'done':
    case 'terminal':
      return 200;
    case 'wait':
    case 'retry':
      return 503;
    case 'malformed':
      return 400;
    case 'oversized':
      return 413;
  }
}
