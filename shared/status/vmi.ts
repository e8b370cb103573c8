/**
 * A pure classifier of KubeVirt VirtualMachineInstance state, and the Machine addresses it
 * yields (machine-controller: every interface IP, prefix stripped, type InternalIP).
 */
export interface VmiLike {
  metadata: { name: string; namespace?: string; uid?: string; deletionTimestamp?: string };
  status?: {
    phase?: string;
    reason?: string;
    nodeName?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    interfaces?: { name?: string; ipAddress?: string; ipAddresses?: string[] }[];
  };
}

export type VmiState = 'pending' | 'running' | 'ready' | 'failed' | 'stopped' | 'deleting';

export const VmiReason = {
  Pending: 'VMIPending',
  Scheduling: 'VMIScheduling',
  Scheduled: 'VMIScheduled',
  RunningNotReady: 'VMIRunningNotReady',
  Ready: 'VMIReady',
  Failed: 'VMIFailed',
  Succeeded: 'VMIStopped',
  Deleting: 'VMIDeleting',
  Unknown: 'VMIUnknown',
} as const;
export type VmiReason = (typeof VmiReason)[keyof typeof VmiReason];

export interface VmiClassification {
  state: VmiState;
  reason: VmiReason;
  message: string;
  /** Interface IPs, prefixes stripped, de-duplicated, in interface order. */
  addresses: string[];
}

/** `10.0.0.5/24` → `10.0.0.5`; empty → undefined. */
export const stripPrefix = (ip: string | undefined): string | undefined => {
  const v = ip?.trim().split('/')[0];
  return v ? v : undefined;
};

export function vmiAddresses(vmi: VmiLike): string[] {
  const out: string[] = [];
  for (const i of vmi.status?.interfaces ?? []) {
    for (const ip of [i.ipAddress, ...(i.ipAddresses ?? [])]) {
      const a = stripPrefix(ip);
      if (a && !out.includes(a)) out.push(a);
    }
  }
  return out;
}

export function classifyVmi(vmi: VmiLike): VmiClassification {
  const name = `${vmi.metadata.namespace ?? ''}/${vmi.metadata.name}`;
  const addresses = vmiAddresses(vmi);
  const phase = vmi.status?.phase ?? '';
  if (vmi.metadata.deletionTimestamp)
    return { state: 'deleting', reason: VmiReason.Deleting, message: `VMI ${name} is being deleted`, addresses };
  const ready = vmi.status?.conditions?.find((c) => c.type === 'Ready');
  switch (phase) {
    case 'Running':
      if (ready?.status === 'True')
        return { state: 'ready', reason: VmiReason.Ready, message: `VMI ${name} is running and ready`, addresses };
      return {
        state: 'running',
        reason: VmiReason.RunningNotReady,
        message: `VMI ${name} is running, not ready${ready?.reason ? ` (${ready.reason})` : ''}`,
        addresses,
      };
    case 'Failed': {
      const why = vmi.status?.reason || ready?.message || ready?.reason;
      return {
        state: 'failed',
        reason: VmiReason.Failed,
        message: `VirtualMachineInstance ${name} failed${why ? `: ${why}` : ''}`,
        addresses,
      };
    }
    case 'Succeeded':
      return { state: 'stopped', reason: VmiReason.Succeeded, message: `VMI ${name} has shut down`, addresses };
    case 'Scheduling':
      return { state: 'pending', reason: VmiReason.Scheduling, message: `VMI ${name} is being scheduled`, addresses };
    case 'Scheduled':
      return {
        state: 'pending',
        reason: VmiReason.Scheduled,
        message: `VMI ${name} is scheduled on ${vmi.status?.nodeName ?? 'a node'}`,
        addresses,
      };
    case '':
    case 'Pending':
      return { state: 'pending', reason: VmiReason.Pending, message: `VMI ${name} is pending`, addresses };
    default:
      return { state: 'pending', reason: VmiReason.Unknown, message: `VMI ${name} is in phase ${phase}`, addresses };
  }
}
