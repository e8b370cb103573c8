/**
 * A short-lived cache of lookups per API client (cluster-scoped objects that rarely change:
 * StorageProfiles, StorageClasses, service/pod ranges), so a burst of Machines does not repeat
 * the same reads. A failed lookup is forgotten at once.
 */
export class TtlCache<K extends object, V> {
  private readonly byOwner = new WeakMap<K, Map<string, { at: number; value: Promise<V> }>>();

  constructor(private readonly ttlMs: number) {}

  get(owner: K, key: string, load: () => Promise<V>): Promise<V> {
    let m = this.byOwner.get(owner);
    if (!m) this.byOwner.set(owner, (m = new Map()));
    const hit = m.get(key);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.value;
    const value = load();
    m.set(key, { at: Date.now(), value });
    value.catch(() => m!.delete(key));
    return value;
  }
}
