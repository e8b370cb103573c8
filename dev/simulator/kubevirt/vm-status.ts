/**
 * VirtualMachine status as virt-controller's updateStatus writes it (reference §5.2):
 * created, ready, printableStatus (setPrintableStatus' precedence, first match wins), the
 * Ready condition copied from the VMI (VMINotExists without one), a Failure condition for sync
 * errors, and every other VMI condition copied. Pure.
 */
import { canonical } from '../canonical.js';
import { startExpected, stopExpected } from './run-strategy.js';
import { dataVolumeError, dataVolumeNames, dataVolumeProvisioning } from './volumes.js';
import { FINAL_PHASES } from './vmi-status.js';

export interface SyncError {
  reason: string;
  message: string;
}

interface VmCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastProbeTime: string | null;
  lastTransitionTime: string | null;
}

export interface VmStatusInput {
  vm: any;
  vmi: any | undefined;
  /** DataVolume by name in the VM's namespace (cache). */
  dataVolume: (name: string) => any | undefined;
  strategy: string | undefined;
  syncError: SyncError | undefined;
  now: string;
}

export function printableStatus({ vm, vmi, dataVolume, strategy }: VmStatusInput): string {
  const phase: string = vmi?.status?.phase ?? '';
  const final = FINAL_PHASES.has(phase);
  const dvs = dataVolumeNames(vm.spec?.template?.spec).map(dataVolume);
  const strat = strategy ?? 'Halted';
  if (vm.metadata.deletionTimestamp) return 'Terminating';
  if (vmi && !final && (vmi.metadata.deletionTimestamp || stopExpected(strat))) return 'Stopping';
  if (vmi && phase === 'Running') return 'Running';
  if (dvs.some((dv) => dataVolumeError(dv) !== undefined)) return 'DataVolumeError';
  if (dvs.some(dataVolumeProvisioning)) return 'Provisioning';
  if (vmi ? ['', 'Pending', 'Scheduling', 'Scheduled'].includes(phase) : startExpected(strat)) return 'Starting';
  if (vmi ? final : !startExpected(strat)) return 'Stopped';
  return 'Unknown';
}

/** Keeps the previous timestamps of a condition whose status, reason and message are unchanged. */
function carry(prev: VmCondition[], c: VmCondition): VmCondition {
  const old = prev.find((p) => p.type === c.type);
  const out = { ...c };
  if (old && old.status === c.status && (old.reason ?? '') === (c.reason ?? '') && (old.message ?? '') === (c.message ?? '')) {
    out.lastProbeTime = old.lastProbeTime ?? null;
    out.lastTransitionTime = old.lastTransitionTime ?? null;
  }
  if (!out.reason) delete out.reason;
  if (!out.message) delete out.message;
  return out;
}

export function vmStatus(input: VmStatusInput): Record<string, unknown> {
  const { vm, vmi, syncError, now } = input;
  const prev: VmCondition[] = Array.isArray(vm.status?.conditions) ? vm.status.conditions : [];
  const vmiConds: any[] = Array.isArray(vmi?.status?.conditions) ? vmi.status.conditions : [];
  const conds: VmCondition[] = [];

  const ready = vmiConds.find((c) => c.type === 'Ready');
  if (!vmi) {
    conds.push(
      carry(prev, {
        type: 'Ready',
        status: 'False',
        reason: 'VMINotExists',
        message: 'VMI does not exist',
        lastProbeTime: now,
        lastTransitionTime: now,
      }),
    );
  } else if (!ready) {
    conds.push(
      carry(prev, {
        type: 'Ready',
        status: 'False',
        reason: 'VMIConditionMissing',
        message: 'VMI is missing the Ready condition',
        lastProbeTime: now,
        lastTransitionTime: now,
      }),
    );
  } else {
    // Copied as is, timestamps included (syncReadyConditionFromVMI).
    conds.push(
      carry([], {
        type: 'Ready',
        status: ready.status,
        reason: ready.reason,
        message: ready.message,
        lastProbeTime: ready.lastProbeTime ?? null,
        lastTransitionTime: ready.lastTransitionTime ?? null,
      }),
    );
  }
  if (syncError) {
    conds.push(
      carry(prev, {
        type: 'Failure',
        status: 'True',
        reason: syncError.reason,
        message: syncError.message,
        lastProbeTime: null,
        lastTransitionTime: now,
      }),
    );
  }
  for (const c of vmiConds) {
    if (c.type === 'Ready' || c.type === 'Failure' || c.type === 'RestartRequired') continue;
    conds.push(
      carry(prev, {
        type: c.type,
        status: c.status,
        reason: c.reason,
        message: c.message,
        lastProbeTime: c.lastProbeTime ?? null,
        lastTransitionTime: c.lastTransitionTime ?? null,
      }),
    );
  }

  const isReady = Boolean(vmi && !vmi.metadata.deletionTimestamp && ready?.status === 'True');
  return {
    // bool omitempty in KubeVirt's types: false is absent (null removes it in a merge patch)
    created: vmi ? true : null,
    ready: isReady ? true : null,
    printableStatus: printableStatus(input),
    conditions: conds,
    runStrategy: input.strategy ?? null,
  };
}

export function sameVmStatus(cur: any, next: Record<string, unknown>): boolean {
  const pick = (s: any) =>
    canonical([s?.created ?? false, s?.ready ?? false, s?.printableStatus, s?.conditions ?? [], s?.runStrategy ?? '']);
  return pick(cur) === pick(next);
}
