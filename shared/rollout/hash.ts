/**
 * The machine template hash that names a MachineDeployment's MachineSets and labels their Machines.
 *
 * machine-controller hashes the Go struct with spew + FNV-1a 32; a Go struct dump cannot be
 * reproduced from schemaless JSON, so we hash a canonical JSON of the template instead (same
 * FNV-1a 32, same collision-count suffix as Kubernetes' ComputeHash). Our hashes therefore differ
 * from machine-controller's for the same template — which only matters for adopting MachineSets
 * it created, and adoption finds the new MachineSet by template equality, not by hash.
 */
import { LABEL_MACHINE_TEMPLATE_HASH } from '../constants.js';
import type { MachineTemplateSpec } from './types.js';

/**
 * The value with absent-equivalent members removed, recursively: `undefined`/`null` members and
 * empty objects/arrays. Go's typed structs (and `apiequality.Semantic`) treat nil and empty maps,
 * slices and pointers alike, so `labels: {}` must hash and compare like no labels at all.
 * Returns undefined when nothing remains.
 */
export function canonicalize(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) {
    // Array elements keep their positions: an empty or null element is data, not absence.
    return value.length === 0 ? undefined : value.map((v) => canonicalize(v) ?? emptyOf(v));
  }
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = canonicalize((value as Record<string, unknown>)[k]);
      if (v !== undefined) out[k] = v;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return value;
}

/** The canonical stand-in for an element that canonicalizes to nothing. */
function emptyOf(v: unknown): unknown {
  if (Array.isArray(v)) return [];
  return v !== null && typeof v === 'object' ? {} : null;
}

/** Deterministic JSON: sorted keys, absent-equivalent members dropped (see `canonicalize`). */
export function stableStringify(value: unknown): string {
  return JSON.stringify(canonicalize(value) ?? null);
}

const FNV32_OFFSET = 0x811c9dc5;
const FNV32_PRIME = 0x01000193;

/** FNV-1a 32-bit over bytes, continuing from `seed` (so data can be hashed in parts). */
export function fnv1a32(bytes: Uint8Array, seed = FNV32_OFFSET): number {
  let h = seed >>> 0;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, FNV32_PRIME) >>> 0;
  }
  return h >>> 0;
}

/**
 * The template hash as machine-controller writes it in the `machine-template-hash` label: the
 * decimal uint32. With a `collisionCount`, its 8 bytes (uint32 little-endian, zero-padded, as
 * Kubernetes' ComputeHash writes them) are hashed after the template, giving a new name after a
 * collision; undefined means none were written, as for Go's nil pointer.
 */
export function computeTemplateHash(template: MachineTemplateSpec | undefined, collisionCount?: number): string {
  let h = fnv1a32(new TextEncoder().encode(stableStringify(template)));
  if (collisionCount !== undefined) {
    const extra = new Uint8Array(8);
    new DataView(extra.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv1a32(extra, h);
  }
  return String(h);
}

/** Kubernetes' `rand.SafeEncodeString` alphabet: no vowels, no confusable characters. */
const SAFE_ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** `rand.SafeEncodeString`: each character mapped into the safe alphabet (by code point). */
export function safeEncodeString(s: string): string {
  let out = '';
  for (const ch of s) out += SAFE_ALPHANUMS[ch.codePointAt(0)! % SAFE_ALPHANUMS.length];
  return out;
}

/** `<md>-<SafeEncodeString(hash)>`, machine-controller's deterministic MachineSet name. */
export function machineSetName(md: string | { metadata: { name: string } }, hash: string): string {
  const name = typeof md === 'string' ? md : md.metadata.name;
  return `${name}-${safeEncodeString(hash)}`;
}

/**
 * `EqualIgnoreHash`: templates equal once the `machine-template-hash` label is removed from both
 * (MachineSet templates carry it, the MachineDeployment's does not), nil and empty alike.
 */
export function equalIgnoreHash(a: MachineTemplateSpec | undefined, b: MachineTemplateSpec | undefined): boolean {
  return stableStringify(withoutHashLabel(a)) === stableStringify(withoutHashLabel(b));
}

function withoutHashLabel(t: MachineTemplateSpec | undefined): MachineTemplateSpec | undefined {
  if (!t?.metadata?.labels || !(LABEL_MACHINE_TEMPLATE_HASH in t.metadata.labels)) return t;
  const { [LABEL_MACHINE_TEMPLATE_HASH]: _drop, ...labels } = t.metadata.labels;
  return { ...t, metadata: { ...t.metadata, labels } };
}
