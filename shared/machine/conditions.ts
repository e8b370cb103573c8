/**
 * The Machine's own record of what each stage observed, so that readiness and error ownership
 * are state rather than the delivery record of follow-up events:
 *
 * - `status.providerStatus.conditions[]` (ours): `VirtualMachineCreated` (machine function),
 *   `ImageImported` (datavolume function), `VMIReady` (vmi function), each
 *   `{type, status: 'True'|'False', reason?, message?, lastTransitionTime}`.
 * - `status.providerStatus.errorOwner`: which function wrote `status.errorReason/errorMessage`,
 *   and so the only one that clears it when its stage recovers.
 * - `status.conditions[]` (machine-controller's shape, written by the node function): `Ready`
 *   mirrors the linked Node's Ready condition.
 *
 * Machines written before these fields existed have none of them: absent reads as unknown, and
 * the next write of the owning function adds them.
 */
import type { Machine } from './types.js';

export const ConditionType = {
  VirtualMachineCreated: 'VirtualMachineCreated',
  ImageImported: 'ImageImported',
  VMIReady: 'VMIReady',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

export interface ProviderCondition {
  type: string;
  status: 'True' | 'False';
  reason?: string;
  message?: string;
  /** RFC 3339; when `status` last changed. */
  lastTransitionTime: string;
}

/** What a function observed; the transition time is derived. */
export type ConditionUpdate = Omit<ProviderCondition, 'lastTransitionTime'>;

export type ErrorOwner = 'machine' | 'datavolume' | 'vmi' | 'node';

/** Only reasons the machine function ever writes: an owner-less error with one of them is its (written before errorOwner). */
const MACHINE_ONLY_REASONS = new Set(['InvalidConfiguration', 'NameCollision']);

export function providerConditions(m: Machine): ProviderCondition[] {
  const list = m.status?.providerStatus?.conditions;
  return Array.isArray(list) ? list : [];
}

export function providerCondition(m: Machine, type: ConditionType): ProviderCondition | undefined {
  return providerConditions(m).find((c) => c?.type === type);
}

export const conditionTrue = (m: Machine, type: ConditionType): boolean => providerCondition(m, type)?.status === 'True';

/**
 * `current` with `update` set: lastTransitionTime is kept while the status stays, `now` when it
 * changes (or the condition is new). Undefined when nothing would change, so callers write only
 * on a difference (idempotent, and no Machine update event for nothing).
 */
export function withCondition(
  current: readonly ProviderCondition[],
  update: ConditionUpdate,
  now: string,
): ProviderCondition[] | undefined {
  const old = current.find((c) => c.type === update.type);
  const next: ProviderCondition = {
    type: update.type,
    status: update.status,
    ...(update.reason ? { reason: update.reason } : {}),
    ...(update.message ? { message: update.message } : {}),
    lastTransitionTime: old && old.status === update.status ? old.lastTransitionTime : now,
  };
  if (old && old.status === next.status && old.reason === next.reason && old.message === next.message) return undefined;
  return old ? current.map((c) => (c.type === update.type ? next : c)) : [...current, next];
}

/**
 * The `providerStatus` fragment that sets `update` on `m` (merged into the caller's patch), or
 * `{}` when it is already so. The whole array is written (a merge patch replaces arrays), so the
 * caller must write it with `m`'s resourceVersion as precondition: see `emitOnce`.
 */
export function conditionPatch(m: Machine, update: ConditionUpdate, now: string): { conditions?: ProviderCondition[] } {
  const next = withCondition(providerConditions(m), update, now);
  return next ? { conditions: next } : {};
}

/** `conditionPatch` for several updates at once (in order), or `{}` when none changes anything. */
export function conditionsPatch(m: Machine, updates: readonly ConditionUpdate[], now: string): { conditions?: ProviderCondition[] } {
  let list: readonly ProviderCondition[] = providerConditions(m);
  let changed = false;
  for (const u of updates) {
    const next = withCondition(list, u, now);
    if (next) [list, changed] = [next, true];
  }
  return changed ? { conditions: [...list] } : {};
}

/** Which function owns the Machine's current error; undefined when there is none or it is unknown. */
export function errorOwnerOf(m: Machine): ErrorOwner | undefined {
  if (!m.status?.errorReason && !m.status?.errorMessage) return undefined;
  const owner = m.status?.providerStatus?.errorOwner;
  if (owner) return owner;
  return MACHINE_ONLY_REASONS.has(m.status?.errorReason ?? '') ? 'machine' : undefined;
}

/** True when `owner` wrote the Machine's current error, and so may clear it. */
export const ownsError = (m: Machine, owner: ErrorOwner): boolean => errorOwnerOf(m) === owner;

/** machine-controller's `status.conditions` Ready (mirrored from the Node by the node function). */
export interface NodeReadiness {
  status: 'True' | 'False' | 'Unknown';
  /** lastTransitionTime of the Node's Ready condition. */
  since?: string;
}

export function nodeReadyCondition(m: Machine): NodeReadiness | undefined {
  const list = m.status?.conditions;
  if (!Array.isArray(list)) return undefined;
  const c = (list as { type?: string; status?: string; lastTransitionTime?: string }[]).find((x) => x?.type === 'Ready');
  if (!c) return undefined;
  const status = c.status === 'True' || c.status === 'False' ? c.status : 'Unknown';
  return { status, ...(c.lastTransitionTime ? { since: c.lastTransitionTime } : {}) };
}
