/**
 * Values a providerSpec takes from Secrets and ConfigMaps, and the scrubbing that keeps them out
 * of every message: an error about a referenced value names the reference
 * (`<secretKeyRef kube-system/x[token]>`), never the value. Messages land on the Machine's status,
 * in Events, follow-up CloudEvents and logs, which many more people read than the Secret.
 */
import type { ConfigVarResolver } from './configvar.js';
import type { SpecIssue } from './types.js';

export interface ReferencedValue {
  value: string;
  /** How messages name it instead. */
  placeholder: string;
}

/** `r`, recording every value it reads from a Secret or ConfigMap into `into`. */
export function recordingResolver(r: ConfigVarResolver, into: ReferencedValue[]): ConfigVarResolver {
  const record = (kind: string, ns: string, name: string, key: string, value: string): string => {
    if (value !== '') into.push({ value, placeholder: `<${kind} ${ns}/${name}[${key}]>` });
    return value;
  };
  return {
    secret: async (ns, name, key) => record('secretKeyRef', ns, name, key, await r.secret(ns, name, key)),
    configMap: async (ns, name, key) => record('configMapKeyRef', ns, name, key, await r.configMap(ns, name, key)),
    env: (name) => r.env(name),
  };
}

/**
 * Replaces every referenced value in `text` (also in the JSON-escaped form messages render
 * strings in) with its placeholder; longest values first, so one that contains another goes whole.
 */
export function scrubReferenced(text: string, values: readonly ReferencedValue[]): string {
  let out = text;
  for (const v of [...values].sort((a, b) => b.value.length - a.value.length)) {
    for (const form of new Set([v.value, JSON.stringify(v.value).slice(1, -1)])) {
      if (form !== '') out = out.split(form).join(v.placeholder);
    }
    // Values are often trimmed or parsed before a message quotes them.
    const trimmed = v.value.trim();
    if (trimmed !== '' && trimmed !== v.value) out = out.split(trimmed).join(v.placeholder);
  }
  return out;
}

/** The issues with referenced values scrubbed from messages and replaced as values. */
export function scrubIssues(issues: SpecIssue[], values: readonly ReferencedValue[]): SpecIssue[] {
  if (values.length === 0) return issues;
  return issues.map((i) => {
    const hit = typeof i.value === 'string' ? values.find((v) => v.value === i.value || v.value.trim() === i.value) : undefined;
    return { ...i, value: hit ? hit.placeholder : i.value, message: scrubReferenced(i.message, values) };
  });
}
