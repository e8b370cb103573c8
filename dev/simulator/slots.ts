/**
 * A counting semaphore with abortable waits, first come first served: the simulated node's room
 * for importer pods (see options.ts ImporterOptions.maxConcurrent).
 */
import { abortError } from './lifetime.js';

export class Slots {
  private used = 0;
  private readonly waiting: { grant: () => void; signal: AbortSignal; onAbort: () => void }[] = [];

  constructor(readonly capacity: number) {}

  /** Takes a slot now if one is free. */
  tryAcquire(): boolean {
    if (this.used >= this.capacity || this.waiting.length > 0) return false;
    this.used++;
    return true;
  }

  /** Waits for a slot; rejects with an AbortError when `signal` aborts first. */
  acquire(signal: AbortSignal): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    if (signal.aborted) return Promise.reject(abortError());
    return new Promise((resolve, reject) => {
      const entry = {
        signal,
        grant: () => {
          signal.removeEventListener('abort', entry.onAbort);
          resolve();
        },
        onAbort: () => {
          const i = this.waiting.indexOf(entry);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(abortError());
        },
      };
      signal.addEventListener('abort', entry.onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  /** Gives a slot back (to the longest waiter, if any). */
  release(): void {
    const next = this.waiting.shift();
    if (next) next.grant();
    else this.used = Math.max(0, this.used - 1);
  }

  get inUse(): number {
    return this.used;
  }
}
