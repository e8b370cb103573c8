/**
 * Parsing a providerSpec costs a few milliseconds (strict decoding, kubeconfig validation), and
 * the Machines of a MachineDeployment carry the same one. A spec that references no Secret or
 * ConfigMap depends only on its own text and this process's environment, so its result is
 * remembered by that text; specs with references are always parsed afresh (the referenced
 * values may change).
 */
import { parseProviderSpec } from '../../shared/providerspec/parse.js';
import type { ConfigVarResolver } from '../../shared/providerspec/configvar.js';
import type { ParseResult } from '../../shared/providerspec/types.js';

const MAX = 256;
const cache = new Map<string, Promise<ParseResult>>();

/** Whether a providerSpec may read a Secret or ConfigMap (keys match case-insensitively, as in Go). */
export function hasReferences(value: unknown): boolean {
  const lower = JSON.stringify(value ?? null).toLowerCase();
  return lower.includes('secretkeyref') || lower.includes('configmapkeyref');
}

export function parseProviderSpecCached(value: unknown, resolver: ConfigVarResolver): Promise<ParseResult> {
  if (hasReferences(value)) return parseProviderSpec(value, resolver);
  const text = JSON.stringify(value ?? null);
  let hit = cache.get(text);
  if (!hit) {
    if (cache.size >= MAX) cache.delete(cache.keys().next().value!);
    hit = parseProviderSpec(value, resolver);
    cache.set(text, hit);
    hit.catch(() => cache.delete(text));
  }
  return hit;
}
