/**
 * Label keys, values and selectors with Kubernetes' rules and messages
 * (`util/validation` IsQualifiedName / IsValidLabelValue, `metav1.LabelSelectorAsSelector`,
 * `labels.Selector.Matches`), so selector problems read as they would from an API server.
 */
import type { LabelSelector } from './types.js';

const QNAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const QNAME_RE = new RegExp(`^${QNAME_FMT}$`);
const QNAME_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const QNAME_MAX = 63;
const LABEL_VALUE_FMT = `(${QNAME_FMT})?`;
const LABEL_VALUE_RE = new RegExp(`^${LABEL_VALUE_FMT}$`);
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_SUBDOMAIN_RE = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);
const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

/** Go's `validation.RegexError` wording, double spaces included. */
function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  const shown = examples.map((e) => `'${e}', `).join(' or ');
  return `${msg} (e.g. ${shown}regex used for validation is '${fmt}')`;
}
const maxLenError = (n: number) => `must be no more than ${n} bytes`;
/** Go's len(): UTF-8 bytes, not UTF-16 units. */
const byteLength = (s: string) => Buffer.byteLength(s, 'utf8');

/** `IsDNS1123Subdomain`: the messages, empty when valid. */
export function isDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > 253) errs.push(maxLenError(253));
  if (!DNS1123_SUBDOMAIN_RE.test(value)) errs.push(regexError(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, 'example.com'));
  return errs;
}

/** `IsQualifiedName` (label keys): the messages, empty when valid. */
export function isQualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) name = parts[0];
  else if (parts.length === 2) {
    const prefix = parts[0];
    name = parts[1];
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else errs.push(...isDNS1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  } else {
    return [
      `a valid label key ${regexError(QNAME_MSG, QNAME_FMT, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (byteLength(name) > QNAME_MAX) errs.push(`name part ${maxLenError(QNAME_MAX)}`);
  if (!QNAME_RE.test(name)) errs.push(`name part ${regexError(QNAME_MSG, QNAME_FMT, 'MyName', 'my.name', '123-abc')}`);
  return errs;
}

/** `IsValidLabelValue`: the messages, empty when valid. */
export function isValidLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > 63) errs.push(maxLenError(63));
  if (!LABEL_VALUE_RE.test(value)) errs.push(regexError(LABEL_VALUE_MSG, LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'));
  return errs;
}

/** One parsed requirement; `matchLabels` entries become `Equals`. */
export interface Requirement {
  key: string;
  operator: 'Equals' | 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values: string[];
}

/** A parsed selector: `everything` for an empty one (it matches every label set). */
export type ParsedSelector = { ok: true; everything: boolean; requirements: Requirement[] } | { ok: false; error: string };

const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

/** Kubernetes' `labels.NewRequirement` checks; the error text, or undefined when valid. */
function requirementError(r: Requirement): string | undefined {
  if (typeof r.key !== 'string') return `invalid label key ${JSON.stringify(r.key)}`;
  const keyErrs = isQualifiedName(r.key);
  if (keyErrs.length) return `key: Invalid value: ${JSON.stringify(r.key)}: ${keyErrs.join('; ')}`;
  const n = r.values.length;
  if ((r.operator === 'In' || r.operator === 'NotIn') && n === 0)
    return "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty";
  if (r.operator === 'Equals' && n !== 1) return 'values: Invalid value: exact-match compatibility requires one single value';
  if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && n !== 0) {
    return 'values: Invalid value: values set must be empty for exists and does not exist';
  }
  for (const v of r.values) {
    const errs = typeof v === 'string' ? isValidLabelValue(v) : ['must be a string'];
    if (errs.length) return `values[0]: Invalid value: ${JSON.stringify(v)}: ${errs.join('; ')}`;
  }
  return undefined;
}

/**
 * `metav1.LabelSelectorAsSelector`: an absent or empty selector selects everything (callers that
 * want "empty selects nothing", as machine-controller's MachineSet lookup does, check
 * `everything`); malformed operators, keys, values or value counts are errors.
 */
export function parseSelector(sel: LabelSelector | undefined): ParsedSelector {
  const matchLabels = sel?.matchLabels ?? {};
  const exprs = sel?.matchExpressions ?? [];
  const keys = Object.keys(matchLabels).sort();
  if (keys.length + exprs.length === 0) return { ok: true, everything: true, requirements: [] };
  const requirements: Requirement[] = [];
  for (const k of keys) requirements.push({ key: k, operator: 'Equals', values: [matchLabels[k]] });
  for (const e of exprs) {
    if (!OPERATORS.has(e?.operator))
      return { ok: false, error: `${JSON.stringify(e?.operator ?? '')} is not a valid label selector operator` };
    requirements.push({ key: e.key, operator: e.operator as Requirement['operator'], values: [...(e.values ?? [])] });
  }
  for (const r of requirements) {
    const err = requirementError(r);
    if (err) return { ok: false, error: err };
  }
  return { ok: true, everything: false, requirements };
}

/** Whether one requirement holds for a label set (NotIn and DoesNotExist hold for absent keys). */
function requirementMatches(r: Requirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const value = labels[r.key];
  switch (r.operator) {
    case 'Equals':
    case 'In':
      return has && r.values.includes(value);
    case 'NotIn':
      return !has || !r.values.includes(value);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
  }
}

/** Whether a parsed selector selects `labels` (all requirements hold). */
export function matchesParsed(parsed: ParsedSelector, labels: Record<string, string> | undefined): boolean {
  if (!parsed.ok) return false;
  const set = labels ?? {};
  return parsed.requirements.every((r) => requirementMatches(r, set));
}

/** Whether `sel` selects `labels`; a malformed selector selects nothing, an empty one everything. */
export function selectorMatches(sel: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  return matchesParsed(parseSelector(sel), labels);
}

/** `labels.SelectorFromSet(template labels).Matches(labels)`: every template label present and equal. */
export function hasAllLabels(required: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  const set = labels ?? {};
  return Object.entries(required ?? {}).every(([k, v]) => Object.hasOwn(set, k) && set[k] === v);
}
