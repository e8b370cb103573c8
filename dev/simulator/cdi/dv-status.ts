/**
 * DataVolume status exactly as CDI computes it (pkg/controller/datavolume/conditions.go and
 * controller-base.go updateStatus/updateConditions), from the simulated PVC and importer pod.
 *
 * Pure: the controller decides the state, this module turns it into CDI's fields and strings.
 */
import { canonical } from '../canonical.js';
import { simplifyKnownMessage } from './termination.js';

export type CondStatus = 'True' | 'False' | 'Unknown';

export interface DvCondition {
  type: string;
  status: CondStatus;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastHeartbeatTime?: string;
}

/** The importer pod's container state as CDI reads it into the Running condition. */
export interface RunningState {
  status: CondStatus;
  reason: string;
  message: string;
}

/** No importer pod (or no container status yet): CDI writes Running False with empty reason. */
export const NOT_RUNNING: RunningState = { status: 'False', reason: '', message: '' };
/** Container running: CDI's podRunningReason. */
export const POD_RUNNING: RunningState = { status: 'True', reason: 'Pod is running', message: '' };
export const importComplete = (): RunningState => ({ status: 'False', reason: 'Completed', message: 'Import Complete' });
export const cloneComplete = (): RunningState => ({ status: 'False', reason: 'Completed', message: 'Clone Complete' });
/** A failed importer container: CDI copies its termination message, out-of-space errors rewritten. */
export const importerError = (message: string): RunningState => ({
  status: 'False',
  reason: 'Error',
  message: simplifyKnownMessage(message),
});
/** The importer pod does not fit on a node (CDI's updateRunningCondition, AnnPodSchedulable false). */
export const UNSCHEDULABLE: RunningState = { status: 'False', reason: 'Unschedulable', message: 'Importer pod cannot be scheduled' };

export interface DvState {
  phase: string;
  /** `"%.2f%%"`, `"100.0%"`; undefined → "N/A" (CDI's default once the PVC exists). */
  progress?: string;
  restartCount: number;
  /** PVC Bound (true) or Pending (false). */
  bound: boolean;
  running: RunningState;
}

/** CDI's updateCondition: transition time moves only on a status change, heartbeat on any change. */
export function updateCondition(
  conditions: DvCondition[],
  type: string,
  status: CondStatus,
  message: string,
  reason: string,
  now: string,
): DvCondition[] {
  const out = conditions.map((c) => ({ ...c }));
  let c = out.find((x) => x.type === type);
  if (!c) {
    c = { type, status: '' as CondStatus };
    out.push(c);
  }
  if (c.status !== status) {
    c.lastTransitionTime = now;
    c.lastHeartbeatTime = now;
    setText(c, message, reason);
  } else if ((c.message ?? '') !== message || (c.reason ?? '') !== reason) {
    c.lastHeartbeatTime = now;
    setText(c, message, reason);
  }
  c.status = status;
  return out;
}

/** `reason` and `message` are omitempty in CDI's types. */
function setText(c: DvCondition, message: string, reason: string): void {
  if (message) c.message = message;
  else delete c.message;
  if (reason) c.reason = reason;
  else delete c.reason;
}

/** The DataVolume status for state `s`, carrying condition timestamps over from `prev`. */
export function dvStatus(claimName: string, prev: any, s: DvState, now: string): Record<string, unknown> {
  let conds: DvCondition[] = Array.isArray(prev?.conditions) ? prev.conditions : [];
  // updateBoundCondition
  if (s.bound) {
    conds = updateCondition(conds, 'Bound', 'True', `PVC ${claimName} Bound`, 'Bound', now);
  } else {
    conds = updateCondition(conds, 'Bound', 'False', `PVC ${claimName} Pending`, 'Pending', now);
    conds = updateCondition(conds, 'Ready', 'False', '', '', now);
  }
  // UpdateReadyCondition from the phase
  const ready: CondStatus = s.phase === 'Succeeded' ? 'True' : s.phase === 'Unknown' ? 'Unknown' : 'False';
  conds = updateCondition(conds, 'Ready', ready, '', '', now);
  // updateRunningCondition (no source-pod annotations: not a host-assisted clone's source side)
  conds = updateCondition(conds, 'Running', s.running.status, s.running.message, s.running.reason, now);
  if (s.running.status === 'True') conds = updateCondition(conds, 'Ready', 'False', '', 'TransferRunning', now);

  const status: Record<string, unknown> = {
    claimName,
    phase: s.phase,
    progress: s.progress ?? 'N/A',
    conditions: conds,
  };
  if (s.restartCount > 0) status.restartCount = s.restartCount; // int32 omitempty
  return status;
}

/** `fmt.Sprintf("%.2f%%", pct)` as CDI formats the importer's progress metric. */
export function progressString(fraction: number): string {
  return `${(Math.min(1, Math.max(0, fraction)) * 100).toFixed(2)}%`;
}

export const SUCCEEDED_PROGRESS = '100.0%';

/** Fields the simulator owns, compared to skip writes that would change nothing. */
export function sameDvStatus(a: any, b: any): boolean {
  const pick = (s: any) => canonical([s?.claimName, s?.phase, s?.progress, s?.restartCount ?? 0, s?.conditions ?? []]);
  return pick(a) === pick(b);
}

/** The state encoded in an existing status (to resume after a simulator restart). */
export function stateFromStatus(status: any): DvState {
  const conds: DvCondition[] = Array.isArray(status?.conditions) ? status.conditions : [];
  const running = conds.find((c) => c.type === 'Running');
  const bound = conds.find((c) => c.type === 'Bound');
  return {
    phase: status?.phase ?? '',
    progress: status?.progress && status.progress !== 'N/A' ? status.progress : undefined,
    restartCount: Number(status?.restartCount ?? 0) || 0,
    bound: bound?.status === 'True',
    running: running ? { status: running.status, reason: running.reason ?? '', message: running.message ?? '' } : NOT_RUNNING,
  };
}
