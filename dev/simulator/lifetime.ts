/**
 * Everything the simulator starts (timers, background loops) is registered here, so stop()
 * can cancel it all and wait for it: no timer or socket may outlive the simulator.
 */
export class Lifetime {
  private readonly controller = new AbortController();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly tasks = new Set<Promise<unknown>>();

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get stopped(): boolean {
    return this.controller.signal.aborted;
  }

  /** setTimeout that stop() clears; returns a cancel function. */
  after(ms: number, fn: () => void): () => void {
    if (this.stopped) return () => {};
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        fn();
      },
      Math.max(0, ms),
    );
    this.timers.add(t);
    return () => {
      clearTimeout(t);
      this.timers.delete(t);
    };
  }

  /** Tracks a background promise; its rejection is reported, never unhandled. */
  run(name: string, task: Promise<unknown>, onError: (e: unknown) => void): void {
    const p = task.catch((e) => {
      if (!this.stopped) onError(new Error(`${name}: ${e instanceof Error ? e.message : String(e)}`));
    });
    this.tasks.add(p);
    void p.finally(() => this.tasks.delete(p));
  }

  /** Aborts, clears timers and waits for every tracked task to settle. */
  async stop(): Promise<void> {
    this.controller.abort();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
  }
}

/** Resolves after `ms`, or rejects with an AbortError as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError());
    const t = setTimeout(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    const onAbort = (): void => {
      clearTimeout(t);
      reject(abortError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function abortError(): Error {
  const e = new Error('aborted');
  e.name = 'AbortError';
  return e;
}

export const isAbort = (e: unknown): boolean => e instanceof Error && e.name === 'AbortError';

/** An AbortSignal that fires when any of `signals` does. */
export function anySignal(...signals: AbortSignal[]): AbortSignal {
  return AbortSignal.any(signals);
}
