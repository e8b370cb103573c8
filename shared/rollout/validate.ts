/**
 * machine-controller's admission validation of MachineDeployments (`machinedeployments_validation.go`,
 * reference §8.3) and cluster-api v1alpha1's `MachineSet.Validate`, with their field paths and
 * wording. We have no webhook: the functions run these on every event, report the issues on the
 * object's status and in a Warning Event, and create nothing for an invalid object.
 *
 * Messages follow `field.Error.Error()`: `<path>: Invalid value: <value>: <detail>`. Values are
 * rendered as JSON where Go would print a struct with `%#v` — the detail text is the contract.
 */
import { ROLLING_UPDATE, withDefaults } from './defaults.js';
import { IntOrStringError, getValueFromIntOrPercent } from './intstr.js';
import { isQualifiedName, isValidLabelValue, matchesParsed, parseSelector } from './labels.js';
import type { IntOrString, LabelSelector, MachineDeployment, MachineSet, RollingUpdate } from './types.js';

/** Kubernetes' field error types we produce. */
export type FieldErrorType = 'Invalid' | 'Required' | 'Forbidden';

/** One validation problem: where, what kind, the offending value, and the full message. */
export interface FieldIssue {
  field: string;
  type: FieldErrorType;
  value?: unknown;
  detail: string;
  message: string;
}

const TYPE_TEXT: Record<FieldErrorType, string> = { Invalid: 'Invalid value', Required: 'Required value', Forbidden: 'Forbidden' };

/** Go's rendering of a bad value: `%q` for strings, `%v` for numbers and booleans, `null` for nil. */
function renderValue(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function issue(type: FieldErrorType, field: string, detail: string, value?: unknown): FieldIssue {
  // Required and Forbidden omit the value, as field.Error.ErrorBody does.
  const head = type === 'Invalid' ? `${TYPE_TEXT[type]}: ${renderValue(value)}` : TYPE_TEXT[type];
  return { field, type, ...(type === 'Invalid' ? { value } : {}), detail, message: `${field}: ${head}: ${detail}` };
}

/** `metav1validation.ValidateLabelSelector`: label keys/values and each requirement's shape. */
export function validateLabelSelector(sel: LabelSelector | undefined, path: string): FieldIssue[] {
  const out: FieldIssue[] = [];
  const matchLabels = sel?.matchLabels ?? {};
  // Go ranges over a map; sorted keys keep our reports stable.
  for (const k of Object.keys(matchLabels).sort()) {
    for (const m of isQualifiedName(k)) out.push(issue('Invalid', `${path}.matchLabels`, m, k));
    const v = matchLabels[k];
    const valueErrs = typeof v === 'string' ? isValidLabelValue(v) : ['must be a string'];
    for (const m of valueErrs) out.push(issue('Invalid', `${path}.matchLabels`, m, v));
  }
  (sel?.matchExpressions ?? []).forEach((e, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    const values = e?.values ?? [];
    switch (e?.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) out.push(issue('Required', `${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0)
          out.push(issue('Forbidden', `${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        out.push(issue('Invalid', `${p}.operator`, 'not a valid selector operator', e?.operator));
    }
    const key = typeof e?.key === 'string' ? e.key : '';
    for (const m of isQualifiedName(key)) out.push(issue('Invalid', `${p}.key`, m, e?.key));
    values.forEach((v, j) => {
      const errs = typeof v === 'string' ? isValidLabelValue(v) : ['must be a string'];
      for (const m of errs) out.push(issue('Invalid', `${p}.values[${j}]`, m, v));
    });
  });
  return out;
}

/** Selector shape, non-emptiness, parseability and the template-label match shared by MD and MS. */
function validateSelectorAndTemplate(
  sel: LabelSelector | undefined,
  templateLabels: Record<string, string> | undefined,
  kind: 'MachineDeployment' | 'MachineSet',
): FieldIssue[] {
  const out = validateLabelSelector(sel, 'spec.selector');
  const count = Object.keys(sel?.matchLabels ?? {}).length + (sel?.matchExpressions?.length ?? 0);
  if (count === 0) out.push(issue('Invalid', 'spec.selector', `empty selector is not valid for ${kind}.`, sel ?? {}));
  const parsed = parseSelector(sel);
  if (!parsed.ok) out.push(issue('Invalid', 'spec.selector', 'invalid label selector.', sel));
  else if (!matchesParsed(parsed, templateLabels)) {
    out.push(issue('Invalid', 'spec.template.metadata.labels', '`selector` does not match template `labels`', templateLabels ?? {}));
  }
  return out;
}

const isNonNegativeInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/**
 * Fields Go's JSON decoding would refuse outright (a string where an int32 belongs): machine-
 * controller never sees such an object, so there is no upstream wording — ours names the field.
 */
function validateIntegerFields(spec: Record<string, unknown>, names: string[]): FieldIssue[] {
  const out: FieldIssue[] = [];
  for (const n of names) {
    const v = spec[n];
    if (v !== undefined && v !== null && !(typeof v === 'number' && Number.isInteger(v))) {
      out.push(issue('Invalid', `spec.${n}`, 'must be an integer', v));
    }
  }
  return out;
}

/** `validatePositiveIntOrPercent` and the value scaled to 100 (0 when malformed, as Go's `_` does). */
function intOrPercent(v: IntOrString, path: string, out: FieldIssue[], roundUp: boolean): number {
  let x: number;
  try {
    x = getValueFromIntOrPercent(v, 100, roundUp);
  } catch (err) {
    if (!(err instanceof IntOrStringError)) throw err;
    out.push(issue('Invalid', path, 'value should be int(5) or percentage(5%)', v));
    return 0;
  }
  if (x < 0) out.push(issue('Invalid', path, 'value should not be negative', x));
  return x;
}

function validateRollingUpdate(ru: RollingUpdate, path: string): FieldIssue[] {
  const out: FieldIssue[] = [];
  const has = (v: unknown) => v !== undefined && v !== null;
  let unavailable = 0;
  let surge = 0;
  if (has(ru.maxUnavailable)) {
    const v = ru.maxUnavailable as IntOrString;
    unavailable = intOrPercent(v, `${path}.maxUnavailable`, out, false);
    // Only a percentage is capped: an absolute maxUnavailable above replicas is clamped later.
    if (typeof v === 'string' && /^[0-9]+%$/.test(v) && unavailable > 100) {
      out.push(issue('Invalid', `${path}.maxUnavailable`, 'should not be more than 100%', v));
    }
  }
  if (has(ru.maxSurge)) surge = intOrPercent(ru.maxSurge as IntOrString, `${path}.maxSurge`, out, true);
  if (has(ru.maxUnavailable) && has(ru.maxSurge) && unavailable === 0 && surge === 0) {
    out.push(issue('Invalid', `${path}.maxUnavailable`, 'may not be 0 when `maxSurge` is 0', ru.maxUnavailable));
  }
  return out;
}

/**
 * The webhook's validation of a MachineDeployment, run (as the webhook does) on the defaulted
 * object. Empty when valid. Order follows machine-controller: selector, replicas, strategy.
 */
export function validateMachineDeployment(md: MachineDeployment): FieldIssue[] {
  const d = withDefaults(md);
  const spec = d.spec;
  const out = validateSelectorAndTemplate(spec.selector, spec.template?.metadata?.labels, 'MachineDeployment');
  if (!isNonNegativeInt(spec.replicas)) {
    out.push(issue('Invalid', 'spec.replicas', 'replicas must be specified and can not be negative', spec.replicas));
  }
  // machine-controller's path really is `spec.strategy.Type` (capital T, the Go field name).
  if (spec.strategy.type !== ROLLING_UPDATE) out.push(issue('Invalid', 'spec.strategy.Type', 'is an invalid type', spec.strategy.type));
  else if (spec.strategy.rollingUpdate) out.push(...validateRollingUpdate(spec.strategy.rollingUpdate, 'spec.strategy.rollingUpdate'));
  out.push(...validateIntegerFields(spec, ['minReadySeconds', 'revisionHistoryLimit', 'progressDeadlineSeconds']));
  if (spec.paused !== undefined && spec.paused !== null && typeof spec.paused !== 'boolean') {
    out.push(issue('Invalid', 'spec.paused', 'must be a boolean', spec.paused));
  }
  return out;
}

/**
 * cluster-api v1alpha1 `MachineSet.Validate` (selector and template labels), plus a replicas check
 * worded like the MachineDeployment's: machine-controller's MachineSet controller refuses to
 * reconcile a selector that cannot match its template. The delete policy is not checked here:
 * machine-controller only rejects an unknown one when it has to delete (see delete-policy.ts).
 */
export function validateMachineSet(ms: MachineSet): FieldIssue[] {
  const spec = ms.spec ?? {};
  const out = validateSelectorAndTemplate(spec.selector, spec.template?.metadata?.labels, 'MachineSet');
  if (spec.replicas !== undefined && spec.replicas !== null && !isNonNegativeInt(spec.replicas)) {
    out.push(issue('Invalid', 'spec.replicas', 'replicas must be specified and can not be negative', spec.replicas));
  }
  out.push(...validateIntegerFields(spec, ['minReadySeconds']));
  return out;
}
