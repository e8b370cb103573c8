/**
 * Per-key serialisation that coalesces, as a controller's work queue does: one reconcile of a key
 * runs at a time and at most one more waits. An event arriving while one waits shares that
 * waiting reconcile's outcome — it has not started yet, so it reads state at least as new as the
 * event — instead of queueing a reconcile of its own.
 *
 * Why: every Machine event reaches the machineset function (and every MachineSet event the
 * machinedeployment function). With a plain lock a burst of 100 Machines queued hundreds of
 * deliveries behind one another, each holding an HTTP request (and a delivery slot of the
 * broker) open for tens of seconds, starving the other functions' deliveries. Coalesced, a burst
 * costs two reconciles per key and no delivery waits longer than two reconciles.
 */
export class Coalescer<T> {
  private readonly running = new Map<string, Promise<T>>();
  private readonly waiting = new Map<string, Promise<T>>();

  run(key: string, fn: () => Promise<T>): Promise<T> {
    const waiting = this.waiting.get(key);
    if (waiting) return waiting;
    const running = this.running.get(key);
    if (!running) return this.start(key, fn);
    const next = running
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        this.waiting.delete(key);
        return this.start(key, fn);
      });
    this.waiting.set(key, next);
    return next;
  }

  private start(key: string, fn: () => Promise<T>): Promise<T> {
    const p: Promise<T> = fn().finally(() => {
      if (this.running.get(key) === p) this.running.delete(key);
    });
    this.running.set(key, p);
    return p;
  }
}
