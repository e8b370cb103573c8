/**
 * A comparison key for status fragments: JSON with sorted keys and without null/undefined
 * members. The API server returns keys in its own order and drops a null we write (to remove a
 * field), so both must compare equal to what we computed, or every reconcile would rewrite.
 */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) if (v[k] !== null && v[k] !== undefined) out[k] = v[k];
      return out;
    }
    return v;
  });
}
