/**
 * Which Machines are ours: machine-controller's rule. A Machine of another cloud provider, or
 * one whose `machine.k8s.io/controller` label gives it to a controller with another
 * `-worker-name` (our WORKER_NAME), is acknowledged and never written.
 */
import type { Machine } from './types.js';

/** machine-controller's label giving a Machine to the controller whose `-worker-name` it holds. */
export const WORKER_LABEL = 'machine.k8s.io/controller';

/** Why `m` is not ours to act on, or undefined when it is. */
export function foreignMachine(m: Machine, env: NodeJS.ProcessEnv): string | undefined {
  const provider = (m.spec?.providerSpec?.value as { cloudProvider?: unknown } | undefined)?.cloudProvider;
  if (typeof provider === 'string' && provider !== '' && provider !== 'kubevirt') return `cloudProvider ${provider} is not ours`;
  const worker = m.metadata.labels?.[WORKER_LABEL] ?? '';
  if (worker !== (env.WORKER_NAME ?? '')) return `${WORKER_LABEL}=${worker} names another controller`;
  return undefined;
}
