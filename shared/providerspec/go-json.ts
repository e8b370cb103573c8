/**
 * Go `encoding/json` decoding semantics, expressed as zod schemas.
 *
 * machine-controller decodes providerSpecs with `json.Decoder.DisallowUnknownFields()`, and
 * `encoding/json` matches object keys to struct fields case-insensitively (an exact match wins,
 * otherwise a case-folded one: `CPUs` sets `cpus`). JSON `null` leaves a Go field at its zero
 * value. To accept exactly what machine-controller accepts we canonicalise each object level's
 * keys to the declared field names *before* zod's strict object check, so zod sees `cpus`, and a
 * key that matches no field keeps its spelling and is reported as `json: unknown field "x"`.
 */
import * as z from 'zod';
import { REDACTED, joinPath, makeIssue } from './issues.js';
import type { SpecIssue } from './types.js';

/**
 * Go's key folding for field matching. Lower-casing matches `bytes.EqualFold` for everything a
 * spec will contain, except U+017F (long s), which Go folds to `s`. (U+212A Kelvin lower-cases
 * to `k` already.)
 */
export function foldName(name: string): string {
  return name.toLowerCase().replace(/\u017f/g, 's');
}

/** A JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Renames the keys of one object level to the declared `fields` they match, as encoding/json
 * does: exact match first, then case-insensitive. Unknown keys keep their spelling. Members
 * whose value is `null` are dropped (Go leaves the field at its zero value). When two keys
 * match the same field, the later one wins, as in Go for scalar fields.
 */
export function canonicaliseKeys(input: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const exact = new Set(fields);
  const folded = new Map(fields.map((f) => [foldName(f), f] as const));
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === null) continue;
    const field = exact.has(key) ? key : (folded.get(foldName(key)) ?? key);
    // defineProperty, not assignment: a JSON key "__proto__" must stay data, not a prototype.
    Object.defineProperty(out, field, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** The JSON kind Go names in `cannot unmarshal <kind>` errors. */
export function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  if (typeof value === 'boolean') return 'bool';
  return typeof value;
}

/** Go's type-mismatch message, without its struct-field part (the issue path carries that). */
export function cannotUnmarshal(input: unknown, goType: string): string {
  return `json: cannot unmarshal ${jsonKind(input)} into Go value of type ${goType}`;
}

type RawIssue = z.core.$ZodRawIssue;

/** Error map for a decoded struct: Go's wording for wrong JSON kinds and unknown fields. */
function structErrors(goType: string) {
  return (iss: RawIssue): string | undefined => {
    if (iss.code === 'unrecognized_keys') return `json: unknown field "${iss.keys[0]}"`;
    if (iss.code === 'invalid_type') return cannotUnmarshal(iss.input, goType);
    return undefined;
  };
}

/**
 * A Go struct decoded strictly: every field optional (Go has zero values), keys matched
 * case-insensitively, unknown keys rejected with `json: unknown field "x"`.
 */
export function goStruct<S extends z.ZodRawShape>(goType: string, shape: S) {
  const fields = Object.keys(shape);
  const object = z.strictObject(shape, { error: structErrors(goType) }).partial();
  return z.preprocess((input) => (isJsonObject(input) ? canonicaliseKeys(input, fields) : input), object);
}

/**
 * A Go struct decoded by a plain `json.Unmarshal` (no DisallowUnknownFields): what
 * ConfigVarString/ConfigVarBool's own UnmarshalJSON does with their object form. Unknown keys
 * are dropped; their names are returned in `ignoredFields` so callers can warn.
 */
export function goLooseStruct<S extends z.ZodRawShape>(goType: string, shape: S) {
  const fields = Object.keys(shape);
  const known = new Set(fields);
  type Known = Partial<z.output<z.ZodObject<S>>> & { ignoredFields?: string[] };
  const object = z.looseObject(shape, { error: structErrors(goType) }).partial();
  return z.preprocess(
    (input) => (isJsonObject(input) ? canonicaliseKeys(input, fields) : input),
    object.transform((value): Known => {
      const ignored = Object.keys(value).filter((k) => !known.has(k));
      if (ignored.length === 0) return value as Known;
      const kept = Object.fromEntries(Object.entries(value).filter(([k]) => known.has(k)));
      return { ...(kept as Known), ignoredFields: ignored };
    }),
  );
}

/** Go `string`: JSON null → "" (zero value). */
export const goString = z.preprocess((v) => (v === null ? '' : v), z.string({ error: (iss) => cannotUnmarshal(iss.input, 'string') }));

/** Go `int`: an integral JSON number; null → 0. */
export const goInt = z.preprocess(
  (v) => (v === null ? 0 : v),
  z.number({ error: (iss) => cannotUnmarshal(iss.input, 'int') }).refine(Number.isSafeInteger, {
    error: (iss) => `json: cannot unmarshal number ${String(iss.input)} into Go value of type int`,
  }),
);

/** Go `bool`; null → false. */
export const goBool = z.preprocess((v) => (v === null ? false : v), z.boolean({ error: (iss) => cannotUnmarshal(iss.input, 'bool') }));

/** Go `[]T`. */
export function goSlice<T extends z.ZodType>(goType: string, element: T) {
  return z.array(element, { error: (iss) => cannotUnmarshal(iss.input, goType) });
}

/** Go `[]string`. */
export const goStringSlice = goSlice('[]string', goString);

/** Walks `root` along a decoded (canonical) path, matching keys case-insensitively. */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur = root;
  for (const key of path) {
    if (Array.isArray(cur) && typeof key === 'number') cur = cur[key];
    else if (isJsonObject(cur) && typeof key === 'string') {
      const match = Object.keys(cur).filter((k) => k === key || foldName(k) === foldName(key));
      cur = match.length > 0 ? cur[match[match.length - 1]] : undefined;
    } else return undefined;
  }
  return cur;
}

/**
 * Turns zod issues from a decode of `input` into SpecIssues rooted at `root`
 * (e.g. `cloudProviderSpec`). An unknown-keys issue becomes one issue per key whose value is
 * the key itself: the member's value could be anything, a misspelt kubeconfig included.
 * Values at paths for which `isSecret` holds are replaced by {@link REDACTED}.
 */
export function decodeIssues(
  issues: readonly z.core.$ZodIssue[],
  root: string,
  input: unknown,
  isSecret: (path: string) => boolean = () => false,
): SpecIssue[] {
  const out: SpecIssue[] = [];
  for (const iss of issues) {
    const base = iss.path.reduce<string>((p, k) => joinPath(p, typeof k === 'number' ? k : String(k)), root);
    if (iss.code === 'unrecognized_keys') {
      for (const key of iss.keys) out.push(makeIssue(joinPath(base, key), key, `json: unknown field "${key}"`));
      continue;
    }
    out.push(makeIssue(base, isSecret(base) ? REDACTED : valueAt(input, iss.path), iss.message));
  }
  return out;
}
