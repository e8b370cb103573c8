/**
 * machine-controller's `PopulateDefaultsMachineDeployment` (reference §8.2), which its webhook
 * applies on admission and its controller again at the start of every reconcile. Our CRDs are
 * schemaless and we have no webhook, so every consumer defaults on read.
 */
import type { DefaultedMachineDeployment, MachineDeployment } from './types.js';

/** The only strategy machine-controller implements. */
export const ROLLING_UPDATE = 'RollingUpdate';

export const DEFAULT_REPLICAS = 1;
export const DEFAULT_MIN_READY_SECONDS = 0;
export const DEFAULT_REVISION_HISTORY_LIMIT = 1;
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;
export const DEFAULT_MAX_SURGE = 1;
export const DEFAULT_MAX_UNAVAILABLE = 0;
export const DEFAULT_NAMESPACE = 'default';

/**
 * A copy of `md` with the defaults filled in; the input is not modified. Only absent (`undefined`
 * or `null`) fields are defaulted — a present but wrong value is left for validation to report,
 * as Go's nil-pointer checks would. `rollingUpdate` is only defaulted for a RollingUpdate strategy.
 */
export function withDefaults(md: MachineDeployment): DefaultedMachineDeployment {
  const copy = structuredClone(md);
  const spec = (copy.spec ??= {});
  spec.replicas ??= DEFAULT_REPLICAS;
  spec.minReadySeconds ??= DEFAULT_MIN_READY_SECONDS;
  spec.revisionHistoryLimit ??= DEFAULT_REVISION_HISTORY_LIMIT;
  spec.progressDeadlineSeconds ??= DEFAULT_PROGRESS_DEADLINE_SECONDS;
  const strategy = (spec.strategy ??= {});
  // Go compares the string with "": an empty type is defaulted like an absent one.
  if (strategy.type === undefined || strategy.type === null || strategy.type === '') strategy.type = ROLLING_UPDATE;
  if (strategy.type === ROLLING_UPDATE) {
    const ru = (strategy.rollingUpdate ??= {});
    ru.maxSurge ??= DEFAULT_MAX_SURGE;
    ru.maxUnavailable ??= DEFAULT_MAX_UNAVAILABLE;
  }
  const meta = (copy.metadata ??= { name: '' });
  if (!meta.namespace) meta.namespace = DEFAULT_NAMESPACE;
  return copy as DefaultedMachineDeployment;
}
