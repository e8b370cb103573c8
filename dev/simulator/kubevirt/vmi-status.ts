/**
 * VirtualMachineInstance status as virt-controller (Pending → Scheduling → Scheduled) and
 * virt-handler (Running) write it — reference §6. Pure: the controller picks the phase.
 *
 * Conditions: Ready mirrors the virt-launcher pod (PodNotExists before it exists, the pod's
 * ContainersNotReady while it starts, True once the guest runs); PodScheduled is copied from
 * the pod once scheduled; DataVolumesReady appears when the VMI uses DataVolumes.
 * No guest agent runs, so there is no AgentConnected condition and guestOSInfo stays empty.
 */
import { canonical } from '../canonical.js';
import { macFor } from './ip-pool.js';

export interface VmiCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastProbeTime: null;
  lastTransitionTime: string;
}

export interface VmiStep {
  phase: 'Pending' | 'Scheduling' | 'Scheduled' | 'Running' | 'Failed';
  nodeName: string;
  /** undefined when the VMI has no dataVolume volumes. */
  dataVolumesReady?: boolean;
  /** Addresses for the Running interfaces (one per spec interface). */
  ips?: string[];
  /** Why a Failed VMI failed (the simulator's failure hook). */
  failure?: string;
  /** A stable id for the simulated launcher pod (activePods key). */
  podUid: string;
}

const RUNTIME_USER = 107; // virt-launcher's non-root qemu user

function setCondition(
  conds: VmiCondition[],
  prev: VmiCondition[],
  c: Omit<VmiCondition, 'lastProbeTime' | 'lastTransitionTime'>,
  now: string,
): void {
  const old = prev.find((p) => p.type === c.type);
  const same = old && old.status === c.status && (old.reason ?? '') === (c.reason ?? '') && (old.message ?? '') === (c.message ?? '');
  const next: VmiCondition = { ...c, lastProbeTime: null, lastTransitionTime: same ? old.lastTransitionTime : now };
  if (!next.reason) delete next.reason;
  if (!next.message) delete next.message;
  conds.push(next);
}

/** The interface list virt-handler reports for `spec` (the pod network default when none is declared). */
export function interfaceNames(spec: any): { name: string; macAddress?: string }[] {
  const declared = spec?.domain?.devices?.interfaces;
  if (!Array.isArray(declared) || declared.length === 0) return [{ name: 'default' }];
  return declared.map((i: any) => ({ name: String(i.name), macAddress: i.macAddress }));
}

export function vmiStatus(vmi: any, step: VmiStep, now: string): Record<string, unknown> {
  const prev = vmi.status ?? {};
  const prevConds: VmiCondition[] = Array.isArray(prev.conditions) ? prev.conditions : [];
  const conds: VmiCondition[] = [];
  const { phase } = step;
  const podExists = phase !== 'Pending';
  const scheduled = phase === 'Scheduled' || phase === 'Running';

  if (phase === 'Running') setCondition(conds, prevConds, { type: 'Ready', status: 'True' }, now);
  else if (phase === 'Failed')
    setCondition(
      conds,
      prevConds,
      { type: 'Ready', status: 'False', reason: 'GuestNotRunning', message: 'Guest VM is not reported as running' },
      now,
    );
  else if (!podExists)
    setCondition(
      conds,
      prevConds,
      { type: 'Ready', status: 'False', reason: 'PodNotExists', message: 'virt-launcher pod has not yet been scheduled' },
      now,
    );
  else
    setCondition(
      conds,
      prevConds,
      { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [compute]' },
      now,
    );
  if (scheduled) setCondition(conds, prevConds, { type: 'PodScheduled', status: 'True' }, now);
  if (step.dataVolumesReady !== undefined) {
    setCondition(
      conds,
      prevConds,
      step.dataVolumesReady
        ? { type: 'DataVolumesReady', status: 'True', reason: 'AllDVsReady', message: "All of the VMI's DVs are bound and not running" }
        : { type: 'DataVolumesReady', status: 'False', reason: 'NotAllDVsReady', message: "Not all of the VMI's DVs are ready" },
      now,
    );
  }

  const transitions: { phase: string; phaseTransitionTimestamp: string }[] = Array.isArray(prev.phaseTransitionTimestamps)
    ? [...prev.phaseTransitionTimestamps]
    : [];
  if (prev.phase !== phase) transitions.push({ phase, phaseTransitionTimestamp: now });

  const status: Record<string, unknown> = {
    phase,
    phaseTransitionTimestamps: transitions,
    conditions: conds,
    runtimeUser: RUNTIME_USER,
    guestOSInfo: {},
  };
  if (podExists) status.qosClass = 'Burstable';
  if (scheduled || phase === 'Failed') {
    status.nodeName = step.nodeName;
    if (phase !== 'Failed') status.activePods = { [step.podUid]: step.nodeName };
  }
  if (phase === 'Running') {
    status.interfaces = interfaceNames(vmi.spec).map((iface, i) => {
      const ip = step.ips?.[i] ?? '';
      return {
        name: iface.name,
        ipAddress: ip,
        ipAddresses: [ip],
        mac: iface.macAddress ?? macFor(ip),
        infoSource: i === 0 ? 'domain' : 'domain, multus-status',
        podInterfaceName: i === 0 ? 'eth0' : `pod${i}`,
        queueCount: 1,
        linkState: 'up',
      };
    });
  }
  if (phase === 'Failed' && step.failure) status.reason = step.failure;
  return status;
}

/** Compares the fields we own, so unchanged statuses are not rewritten. */
export function sameVmiStatus(a: any, b: any): boolean {
  const pick = (s: any) =>
    canonical([s?.phase, s?.conditions ?? [], s?.nodeName, s?.interfaces ?? [], s?.phaseTransitionTimestamps ?? [], s?.reason ?? null]);
  return pick(a) === pick(b);
}

export const FINAL_PHASES = new Set(['Succeeded', 'Failed']);
