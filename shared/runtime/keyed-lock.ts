/**
 * Serialises work per key inside one process. MachineSet and MachineDeployment reconciles read
 * a list and then create or delete from it; two concurrent reconciles of the same object would
 * both act on the same stale list (double creation). One process handles all events of a key
 * (their Knative Services run with max-scale 1), so an in-process lock is enough.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
