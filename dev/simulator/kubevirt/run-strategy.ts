/**
 * VirtualMachine run strategies as virt-controller applies them (VirtualMachine.RunStrategy()
 * and the startStop switch in pkg/virt-controller/watch/vm/vm.go).
 */
import { FINAL_PHASES } from './vmi-status.js';

export type RunStrategyResult = { ok: true; strategy: string } | { ok: false; error: string };

/** `running: true` ≡ Always, `running: false` ≡ Halted; neither set → Halted; both → an error. */
export function runStrategyOf(vm: any): RunStrategyResult {
  const running = vm?.spec?.running;
  const strategy = vm?.spec?.runStrategy;
  if (running !== undefined && running !== null && strategy !== undefined && strategy !== null) {
    return { ok: false, error: 'running and runstrategy are mutually exclusive' };
  }
  if (typeof running === 'boolean') return { ok: true, strategy: running ? 'Always' : 'Halted' };
  return { ok: true, strategy: typeof strategy === 'string' && strategy ? strategy : 'Halted' };
}

export const KNOWN_STRATEGIES = new Set(['Always', 'Halted', 'Manual', 'RerunOnFailure', 'Once', 'WaitAsReceiver']);

/** What the VM controller does about the VMI under `strategy`. */
export type StartStopAction = 'create' | 'delete' | 'none' | 'unknown';

export function startStopAction(strategy: string, vmi: any | undefined): StartStopAction {
  const phase: string = vmi?.status?.phase ?? '';
  const deleting = Boolean(vmi?.metadata?.deletionTimestamp);
  switch (strategy) {
    case 'Always':
      // Always running: a finished VMI is deleted, and the next pass starts a new one.
      if (!vmi) return 'create';
      return FINAL_PHASES.has(phase) && !deleting ? 'delete' : 'none';
    case 'RerunOnFailure':
      if (!vmi) return 'create';
      return phase === 'Failed' && !deleting ? 'delete' : 'none';
    case 'Once':
      return vmi ? 'none' : 'create';
    case 'Halted':
      return vmi && !deleting ? 'delete' : 'none';
    case 'Manual':
    case 'WaitAsReceiver':
      // Manual: started only through the start subresource, which a plain apiserver lacks.
      return 'none';
    default:
      return 'unknown';
  }
}

/** isVMIStartExpected, for a VM without a VMI. */
export function startExpected(strategy: string): boolean {
  return strategy === 'Always' || strategy === 'RerunOnFailure' || strategy === 'Once';
}

/** isVMIStopExpected. */
export function stopExpected(strategy: string): boolean {
  return strategy === 'Halted';
}
