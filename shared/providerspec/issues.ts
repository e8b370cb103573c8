/**
 * Building SpecIssues: every issue names the JSON path under `providerSpec.value` and the
 * offending value, in its fields and in its message, so a status message on the Machine is
 * actionable on its own. Secrets (the kubeconfig, header values) are redacted before they
 * can reach a message.
 */
import type { SpecIssue } from './types.js';

/** Stand-in for values that must never be shown (the kubeconfig). */
export const REDACTED = '<redacted>';

/** Longest rendering of a value inside a message; specs can hold long strings. */
const MAX_RENDERED = 200;

/** `a.b` + `c` → `a.b.c`; `a` + 0 → `a[0]`. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base === '' ? key : `${base}.${key}`;
}

/** Compact JSON rendering of a value for a message, truncated. */
export function renderValue(value: unknown): string {
  let text: string;
  if (value === undefined) text = 'unset';
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > MAX_RENDERED ? `${text.slice(0, MAX_RENDERED)}…` : text;
}

/**
 * Makes an issue whose message is `<path>: <detail>`, followed by ` (value: <json>)` unless the
 * detail already ends with or quotes the value (machine-controller's messages often do, e.g.
 * `unknown dns policy: X`).
 */
export function makeIssue(path: string, value: unknown, detail: string): SpecIssue {
  const mentionsValue =
    typeof value === 'string' &&
    value !== '' &&
    (detail.endsWith(`: ${value}`) || detail.includes(`"${value}"`) || detail.includes(`'${value}'`));
  const suffix = mentionsValue ? '' : ` (value: ${renderValue(value)})`;
  const prefix = path === '' ? '' : `${path}: `;
  return { path, value, message: `${prefix}${detail}${suffix}` };
}

/** The message of anything thrown; resolvers reject with Errors, but be defensive. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Accumulates what one parse finds: issues (fatal), deprecation notices and warnings (not).
 * Passed through the rule functions so they can report and carry on: we report every problem
 * at once rather than one per webhook round-trip.
 */
export class SpecReport {
  readonly issues: SpecIssue[] = [];
  readonly deprecations: string[] = [];
  readonly warnings: string[] = [];

  /** Records an issue; see {@link makeIssue}. */
  fail(path: string, value: unknown, detail: string): void {
    this.issues.push(makeIssue(path, value, detail));
  }

  /** Records pre-built issues (e.g. from the strict decoder). */
  addIssues(issues: readonly SpecIssue[]): void {
    this.issues.push(...issues);
  }

  /** Records a deprecation notice (once). */
  deprecate(notice: string): void {
    if (!this.deprecations.includes(notice)) this.deprecations.push(notice);
  }

  /** Records a warning (once): accepted, but probably not what the author meant. */
  warn(warning: string): void {
    if (!this.warnings.includes(warning)) this.warnings.push(warning);
  }

  /** No issues so far. */
  get ok(): boolean {
    return this.issues.length === 0;
  }
}
