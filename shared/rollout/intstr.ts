/**
 * IntOrString arithmetic as Kubernetes' `intstr.GetScaledValueFromIntOrPercent` and the
 * Deployment controller's `ResolveFenceposts` / `MaxSurge` / `MaxUnavailable` do it.
 */
import { ROLLING_UPDATE } from './defaults.js';
import type { DefaultedMachineDeployment, IntOrString } from './types.js';

/** An IntOrString that is neither an integer nor an integer percentage (`"25%"`). */
export class IntOrStringError extends Error {
  override name = 'IntOrStringError';
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
/** strconv.Atoi's accepted syntax: optional sign, decimal digits, nothing else. */
const ATOI = /^[+-]?[0-9]+$/;

/**
 * The integer and whether it is a percentage. Strings must end in `%` (Go rejects `"5"`); numbers
 * must be int32 integers (Go's JSON decoding of IntOrString rejects anything else).
 */
export function parseIntOrPercent(v: unknown): { value: number; isPercent: boolean } {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX) {
      throw new IntOrStringError(`invalid value for IntOrString: ${v} is not a 32-bit integer`);
    }
    return { value: v, isPercent: false };
  }
  if (typeof v === 'string') {
    if (!v.endsWith('%')) throw new IntOrStringError('invalid value for IntOrString: invalid type: string is not a percentage');
    const digits = v.slice(0, -1);
    if (!ATOI.test(digits)) throw new IntOrStringError(`invalid value for IntOrString: invalid value ${JSON.stringify(v)}`);
    return { value: Number.parseInt(digits, 10), isPercent: true };
  }
  throw new IntOrStringError('invalid value for IntOrString: invalid type: neither int nor percentage');
}

/**
 * An absolute number from an int, or a percentage of `total` rounded up or down. Throws
 * IntOrStringError on malformed input (validation rejects those before the planners run).
 */
export function getValueFromIntOrPercent(v: IntOrString | undefined, total: number, roundUp: boolean): number {
  if (v === undefined || v === null) throw new IntOrStringError('nil value for IntOrString');
  const { value, isPercent } = parseIntOrPercent(v);
  if (!isPercent) return value;
  const scaled = (value * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

/** Resolved fenceposts: absolute surge and unavailability for a replica count. */
export interface Fenceposts {
  maxSurge: number;
  maxUnavailable: number;
}

/**
 * Surge rounds up, unavailability rounds down, in one step: if both resolve to 0 (possible only
 * through rounding, validation forbids literal zeros) unavailability becomes 1, so the rollout can
 * still progress — by deleting first — where surging is impossible.
 */
export function resolveFenceposts(
  maxSurge: IntOrString | undefined,
  maxUnavailable: IntOrString | undefined,
  replicas: number,
): Fenceposts {
  const surge = getValueFromIntOrPercent(maxSurge, replicas, true);
  let unavailable = getValueFromIntOrPercent(maxUnavailable, replicas, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { maxSurge: surge, maxUnavailable: unavailable };
}

/** `MaxSurge(d)`: 0 unless RollingUpdate. Expects a validated, defaulted MachineDeployment. */
export function maxSurgeOf(md: DefaultedMachineDeployment): number {
  const ru = md.spec.strategy.rollingUpdate;
  if (md.spec.strategy.type !== ROLLING_UPDATE || !ru) return 0;
  return resolveFenceposts(ru.maxSurge, ru.maxUnavailable, md.spec.replicas).maxSurge;
}

/**
 * `MaxUnavailable(d)`: 0 unless RollingUpdate or for 0 replicas, and never more than the replicas
 * (the both-zero rule can yield 1 for a deployment being scaled to 0).
 */
export function maxUnavailableOf(md: DefaultedMachineDeployment): number {
  const ru = md.spec.strategy.rollingUpdate;
  const replicas = md.spec.replicas;
  if (md.spec.strategy.type !== ROLLING_UPDATE || !ru || replicas === 0) return 0;
  return Math.min(resolveFenceposts(ru.maxSurge, ru.maxUnavailable, replicas).maxUnavailable, replicas);
}
