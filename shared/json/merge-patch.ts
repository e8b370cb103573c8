/**
 * RFC 7386 JSON merge patch, applied locally: what the API server would store for a `merge`
 * patch. Used where a write must be a JSON patch (to carry a `test` precondition) but its
 * content is naturally a merge (null removes a key, objects merge, anything else replaces).
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
