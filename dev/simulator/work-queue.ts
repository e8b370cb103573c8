/**
 * A keyed work queue as client-go's: a key is processed by one worker at a time, adds while it
 * runs coalesce into one more pass, failures are retried with a per-key exponential backoff.
 * Reconcilers are level-based (they read the caches), so coalescing loses nothing.
 */
import type { Lifetime } from './lifetime.js';

export type Reconcile = (key: string) => Promise<void>;

export class WorkQueue {
  private readonly queued = new Set<string>();
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, { at: number; cancel: () => void }>();
  private active = 0;
  private started = false;
  private pumpScheduled = false;

  constructor(
    private readonly name: string,
    private readonly reconcile: Reconcile,
    private readonly life: Lifetime,
    private readonly onError: (key: string, e: unknown) => void,
    private readonly concurrency = 8,
  ) {}

  add(key: string): void {
    if (this.life.stopped) return;
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    this.queued.add(key);
    this.schedulePump();
  }

  /** Begins processing (controllers wait for their caches' first sync, as client-go's WaitForCacheSync). */
  start(): void {
    this.started = true;
    this.schedulePump();
  }

  /** Pumps after the current synchronous work: a relist ingests every item before any reconcile runs. */
  private schedulePump(): void {
    if (this.pumpScheduled || !this.started) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Adds `key` after `ms`; an earlier pending delayed add wins (the reconcile re-arms what it needs). */
  addAfter(key: string, ms: number): void {
    if (ms <= 0) return this.add(key);
    const at = Date.now() + ms;
    const existing = this.delayed.get(key);
    if (existing && existing.at <= at) return;
    existing?.cancel();
    const cancel = this.life.after(ms, () => {
      this.delayed.delete(key);
      this.add(key);
    });
    this.delayed.set(key, { at, cancel });
  }

  private pump(): void {
    while (this.active < this.concurrency && this.queued.size > 0) {
      const key = this.queued.values().next().value as string;
      this.queued.delete(key);
      this.running.add(key);
      this.active++;
      this.life.run(`${this.name} ${key}`, this.process(key), () => {});
    }
  }

  private async process(key: string): Promise<void> {
    try {
      await this.reconcile(key);
      this.failures.delete(key);
    } catch (e) {
      if (!this.life.stopped) {
        const n = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, n);
        this.onError(key, e);
        this.addAfter(key, Math.min(5_000, 50 * 2 ** Math.min(n, 7)));
      }
    } finally {
      this.running.delete(key);
      this.active--;
      if (this.dirty.delete(key)) this.queued.add(key);
      if (!this.life.stopped) this.schedulePump();
    }
  }
}
