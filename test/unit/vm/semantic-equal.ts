/**
 * A JSON comparison with the semantics machine-controller's provider test uses
 * (`equality.Semantic.DeepEqual` on decoded Go structs), for comparing our output with its
 * YAML fixtures:
 * - null, absent, `{}` and `[]` are all "empty" and equal to each other (Go nil vs empty);
 * - values under a `requests` / `limits` map are Kubernetes quantities compared by value
 *   (`"2"` = `2`, `2Gi` = `2048Mi`); everywhere else strings and numbers compare strictly;
 * - below the paths in `caseInsensitiveUnder`, object keys match case-insensitively (KubeVirt's
 *   VMI spec is decoded with `encoding/json`, so the fixtures' `topologyspreadconstraints` is
 *   honoured in Go).
 * Differences are reported with a path, so a failing golden test says where.
 */

export interface Difference {
  /** Dotted path with `[i]` for array indices, e.g. `spec.template.spec.volumes[1].name`. */
  path: string;
  /** `missing`: only in expected; `extra`: only in actual; `changed`: both, different. */
  kind: 'missing' | 'extra' | 'changed';
  expected?: unknown;
  actual?: unknown;
}

export interface SemanticOptions {
  /** Dotted paths (e.g. `spec.template.spec`) below which keys compare case-insensitively. */
  caseInsensitiveUnder?: string[];
}

/** Keys whose map values are quantities (ResourceList). */
const QUANTITY_MAPS = new Set(['requests', 'limits']);

const BINARY_SUFFIX: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL_SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** Value of a Kubernetes quantity (`resource.ParseQuantity` grammar), or undefined if it is not one. */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|[numkMGTPE])?$/.exec(value.trim());
  if (!m) return undefined;
  const number = Number(m[1]);
  const suffix = m[2] ?? '';
  if (suffix in BINARY_SUFFIX) return number * BINARY_SUFFIX[suffix]!;
  if (suffix in DECIMAL_SUFFIX) return number * DECIMAL_SUFFIX[suffix]!;
  return number * 10 ** Number(suffix.slice(1));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Go's nil-vs-empty equivalence: null, undefined, `[]` and an object whose every value is
 * itself empty (`{}`, `{annotations: null}`) are all "nothing". `""`, `0` and `false` are values.
 */
export function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isPlainObject(v)) return Object.values(v).every(isEmpty);
  return false;
}

function sameContainer(a: unknown, b: unknown): boolean {
  return (isPlainObject(a) && isPlainObject(b)) || (Array.isArray(a) && Array.isArray(b));
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function quantitiesEqual(a: unknown, b: unknown): boolean | undefined {
  const qa = parseQuantity(a);
  const qb = parseQuantity(b);
  if (qa === undefined || qb === undefined) return undefined;
  return Math.abs(qa - qb) <= 1e-12 * Math.max(Math.abs(qa), Math.abs(qb));
}

/**
 * Every difference between `expected` and `actual` under the semantics above; `[]` means equal.
 */
export function semanticDiff(expected: unknown, actual: unknown, options: SemanticOptions = {}): Difference[] {
  const out: Difference[] = [];
  const ciRoots = (options.caseInsensitiveUnder ?? []).map((p) => p.toLowerCase());
  walk(expected, actual, '', false, false, ciRoots, out);
  return out;
}

function walk(
  expected: unknown,
  actual: unknown,
  path: string,
  caseInsensitive: boolean,
  quantity: boolean,
  ciRoots: string[],
  out: Difference[],
): void {
  const ci = caseInsensitive || ciRoots.includes(path.toLowerCase());
  const eEmpty = isEmpty(expected);
  const aEmpty = isEmpty(actual);
  if (eEmpty && aEmpty) return;
  // Report a whole subtree at its root when one side has nothing there at all; when one side is
  // merely an empty container, descend so the path names the first differing key.
  if (aEmpty && (actual === null || actual === undefined || !sameContainer(expected, actual))) {
    out.push({ path, kind: 'missing', expected });
    return;
  }
  if (eEmpty && (expected === null || expected === undefined || !sameContainer(expected, actual))) {
    out.push({ path, kind: 'extra', actual });
    return;
  }
  if (isPlainObject(expected) && isPlainObject(actual)) {
    compareObjects(expected, actual, path, ci, ciRoots, out);
    return;
  }
  if (Array.isArray(expected) && Array.isArray(actual)) {
    const n = Math.max(expected.length, actual.length);
    for (let i = 0; i < n; i++) {
      walk(expected[i], actual[i], `${path}[${i}]`, ci, false, ciRoots, out);
    }
    return;
  }
  if (quantity) {
    const eq = quantitiesEqual(expected, actual);
    if (eq === true) return;
    if (eq === false) {
      out.push({ path, kind: 'changed', expected, actual });
      return;
    }
  }
  if (!Object.is(expected, actual)) out.push({ path, kind: 'changed', expected, actual });
}

function compareObjects(
  expected: Record<string, unknown>,
  actual: Record<string, unknown>,
  path: string,
  ci: boolean,
  ciRoots: string[],
  out: Difference[],
): void {
  const norm = (k: string): string => (ci ? k.toLowerCase() : k);
  const actualKeys = new Map<string, string>();
  for (const k of Object.keys(actual)) {
    const n = norm(k);
    if (actualKeys.has(n)) {
      // Two keys differing only in case would be ambiguous to Go's decoder as well.
      out.push({ path: join(path, k), kind: 'extra', actual: actual[k] });
      continue;
    }
    actualKeys.set(n, k);
  }
  const seen = new Set<string>();
  const lastKey = path.slice(path.lastIndexOf('.') + 1).replace(/\[\d+\]$/, '');
  const quantity = QUANTITY_MAPS.has(ci ? lastKey.toLowerCase() : lastKey);
  for (const ek of Object.keys(expected)) {
    const n = norm(ek);
    const ak = actualKeys.get(n);
    seen.add(n);
    // Report under the actual key when there is one, so paths read like our output.
    walk(expected[ek], ak === undefined ? undefined : actual[ak], join(path, ak ?? ek), ci, quantity, ciRoots, out);
  }
  for (const [n, ak] of actualKeys) {
    if (!seen.has(n)) walk(undefined, actual[ak], join(path, ak), ci, quantity, ciRoots, out);
  }
}

/** Human-readable report of differences, one per line. */
export function formatDifferences(diffs: Difference[]): string {
  return diffs
    .map((d) => {
      const show = (v: unknown): string => JSON.stringify(v);
      if (d.kind === 'missing') return `- ${d.path}: missing (expected ${show(d.expected)})`;
      if (d.kind === 'extra') return `+ ${d.path}: unexpected ${show(d.actual)}`;
      return `~ ${d.path}: expected ${show(d.expected)}, got ${show(d.actual)}`;
    })
    .join('\n');
}
