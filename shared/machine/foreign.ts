/**
 * Which Machines (and MachineSet/MachineDeployment templates) are ours to act on. Another
 * provider's Machine, or one machine-controller's worker label gives to another controller, is
 * acknowledged by every function and never written: no status, finalizer, Event, or Machines
 * created for its set.
 */
import { MACHINE_FINALIZER } from '../constants.js';
import type { Machine } from './types.js';

/** machine-controller's label giving a Machine to the controller whose `-worker-name` it holds. */
export const WORKER_LABEL = 'machine.k8s.io/controller';

interface MachineLike {
  metadata?: { labels?: Record<string, string> };
  spec?: { providerSpec?: { value?: unknown } };
}

/** Why `m` is not ours to act on, or undefined when it is. */
export function foreignMachine(m: MachineLike | Machine, env: NodeJS.ProcessEnv): string | undefined {
  const provider = (m.spec?.providerSpec?.value as { cloudProvider?: unknown } | undefined)?.cloudProvider;
  if (typeof provider === 'string' && provider !== '' && provider !== 'kubevirt') return `cloudProvider ${provider} is not ours`;
  const worker = m.metadata?.labels?.[WORKER_LABEL] ?? '';
  if (worker !== (env.WORKER_NAME ?? '')) return `${WORKER_LABEL}=${worker} names another controller`;
  return undefined;
}

/**
 * Why `m` is not ours to act on, or undefined: foreign, unless it still carries our finalizer
 * (it became foreign after we provisioned it: it stays ours until the machine function releases
 * it, which is the machine function's own rule).
 */
export function foreignUnlessHeld(m: MachineLike & { metadata?: { finalizers?: string[] } }, env: NodeJS.ProcessEnv): string | undefined {
  const foreign = foreignMachine(m, env);
  return foreign && !m.metadata?.finalizers?.includes(MACHINE_FINALIZER) ? foreign : undefined;
}

interface SetLike {
  metadata?: { labels?: Record<string, string> };
  spec?: { template?: MachineLike };
}

/**
 * Why a MachineSet or MachineDeployment is not ours, or undefined when it is: the Machines its
 * template makes would be foreign, or the set itself carries another controller's worker label
 * (machine-controller filters its sets by that label too).
 */
export function foreignSet(set: SetLike, env: NodeJS.ProcessEnv): string | undefined {
  const template = set.spec?.template;
  const own = foreignMachine({ metadata: set.metadata, spec: {} }, env);
  if (own) return own;
  return foreignMachine({ metadata: template?.metadata, spec: template?.spec }, env);
}
