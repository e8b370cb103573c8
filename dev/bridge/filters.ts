/**
 * Trigger filters as the Knative broker evaluates them, and the admission checks the Knative
 * webhook applies to them.
 *
 * `filters` (SubscriptionsAPI): every entry must match; dialects exact / prefix / suffix
 * (attribute → string, case-sensitive, an absent attribute never matches), all / any / not.
 * `filter.attributes` (legacy): exact match per attribute, "" = any value (attribute present).
 * When both are set, `filters` wins. CESQL is not implemented here and is refused at load time
 * rather than silently matching everything.
 *
 * Validation mirrors knative.dev/eventing `ValidateSubscriptionAPIFilter`: one dialect per
 * entry and ONE key per exact/prefix/suffix map ("Multiple items found, can have only one
 * key-value"). A cluster refuses such a Trigger at apply time, so the bridge refuses it too
 * instead of letting a local run pass with manifests the cluster would reject.
 */
import type { BridgeEvent } from './cloudevent.js';

export interface SubscriptionsApiFilter {
  exact?: Record<string, string>;
  prefix?: Record<string, string>;
  suffix?: Record<string, string>;
  all?: SubscriptionsApiFilter[];
  any?: SubscriptionsApiFilter[];
  not?: SubscriptionsApiFilter;
  cesql?: string;
}

export interface TriggerFilterSpec {
  filters?: SubscriptionsApiFilter[];
  filter?: { attributes?: Record<string, string> };
}

const ATTRIBUTE_NAME = /^[a-z][a-z0-9]*$/;
const SINGLE_KEY_DIALECTS = ['exact', 'prefix', 'suffix'] as const;

/** Problems the Knative webhook would report for these filters (empty when admissible). */
export function filterProblems(spec: TriggerFilterSpec): string[] {
  const problems: string[] = [];
  for (const name of Object.keys(spec.filter?.attributes ?? {})) {
    if (!ATTRIBUTE_NAME.test(name)) problems.push(`filter.attributes: invalid attribute name "${name}"`);
  }
  (spec.filters ?? []).forEach((f, i) => checkFilter(f, `filters[${i}]`, problems));
  return problems;
}

function checkFilter(f: SubscriptionsApiFilter, path: string, problems: string[]): void {
  if (!f || typeof f !== 'object') {
    problems.push(`${path}: not an object`);
    return;
  }
  const dialects = dialectsOf(f);
  if (dialects.length > 1)
    problems.push(`${path}: multiple dialects found (${dialects.join(', ')}), filters can have only one dialect set`);
  for (const d of SINGLE_KEY_DIALECTS) {
    const map = f[d];
    if (!map) continue;
    const keys = Object.keys(map);
    if (keys.length > 1)
      problems.push(
        `${path}.${d}: multiple items found (${keys.join(', ')}), can have only one key-value — use one ${d} entry per attribute`,
      );
    for (const k of keys) if (!ATTRIBUTE_NAME.test(k)) problems.push(`${path}.${d}: invalid attribute name "${k}"`);
  }
  if (f.all) f.all.forEach((g, i) => checkFilter(g, `${path}.all[${i}]`, problems));
  if (f.any) f.any.forEach((g, i) => checkFilter(g, `${path}.any[${i}]`, problems));
  if (f.not) checkFilter(f.not, `${path}.not`, problems);
  if (f.cesql !== undefined) problems.push(`${path}.cesql: CESQL filters are not supported by the local bridge`);
}

function dialectsOf(f: SubscriptionsApiFilter): string[] {
  const found: string[] = [];
  for (const d of SINGLE_KEY_DIALECTS) if (f[d] && Object.keys(f[d]!).length > 0) found.push(d);
  if (f.all && f.all.length > 0) found.push('all');
  if (f.any && f.any.length > 0) found.push('any');
  if (f.not) found.push('not');
  if (f.cesql) found.push('cesql');
  return found;
}

/** Does the Trigger with this filter spec want `ev`? */
export function triggerMatches(spec: TriggerFilterSpec, ev: BridgeEvent): boolean {
  if (spec.filters && spec.filters.length > 0) return spec.filters.every((f) => result(f, ev) !== false);
  const attrs = spec.filter?.attributes;
  if (!attrs) return true;
  return Object.entries(attrs).every(([name, want]) => {
    const have = ev.attributes[name];
    return have !== undefined && (want === '' || have === want);
  });
}

/**
 * Knative filters have three outcomes: pass, fail, and "no filter" (an empty dialect), which
 * `all` and the top-level list treat as a pass and `any` as not-a-pass. `undefined` = no filter.
 */
function result(f: SubscriptionsApiFilter, ev: BridgeEvent): boolean | undefined {
  const attr = (name: string) => ev.attributes[name];
  const each = (map: Record<string, string>, test: (have: string, want: string) => boolean) => {
    const entries = Object.entries(map);
    if (entries.length === 0) return undefined;
    return entries.every(([name, want]) => {
      const have = attr(name);
      return have !== undefined && test(have, want);
    });
  };
  if (f.exact) return each(f.exact, (h, w) => h === w);
  if (f.prefix) return each(f.prefix, (h, w) => h.startsWith(w));
  if (f.suffix) return each(f.suffix, (h, w) => h.endsWith(w));
  if (f.all)
    return combine(
      f.all.map((g) => result(g, ev)),
      (rs) => !rs.includes(false),
    );
  if (f.any)
    return combine(
      f.any.map((g) => result(g, ev)),
      (rs) => rs.includes(true),
    );
  if (f.not) {
    const inner = result(f.not, ev);
    return inner === undefined ? undefined : !inner;
  }
  return undefined;
}

/** `all`/`any` over nested results: "no filter" when every nested one is, else `decide`. */
function combine(results: (boolean | undefined)[], decide: (rs: (boolean | undefined)[]) => boolean): boolean | undefined {
  return results.every((r) => r === undefined) ? undefined : decide(results);
}
