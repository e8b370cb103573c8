/**
 * A pure classifier of CDI DataVolume state (phase, progress, conditions, restartCount).
 *
 * CDI never sets phase Failed for HTTP import errors: the importer pod restarts forever, the DV
 * stays ImportInProgress, and the signal is the `Running` condition False with reason `Error`
 * (or `ImagePullFailed` for registry sources) carrying the importer's message, plus a growing
 * restartCount (cdi-kubevirt reference §1.5–1.8). KubeVirt and CAPK detect exactly that; neither
 * gives up. We turn a persisting signal into a terminal failure after `maxRestarts` restarts or
 * `importTimeoutMs` of failing, both configurable.
 */
export interface DataVolumeStatus {
  phase?: string;
  progress?: string;
  restartCount?: number;
  claimName?: string;
  conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }[];
}

export interface DataVolumeLike {
  metadata: { name: string; namespace?: string; uid?: string; creationTimestamp?: string; deletionTimestamp?: string };
  status?: DataVolumeStatus;
}

export type DvState = 'pending' | 'importing' | 'succeeded' | 'failing' | 'failed';

/** Named reasons, one per distinguishable situation. */
export const DvReason = {
  Pending: 'ImportPending',
  WaitForFirstConsumer: 'WaitForFirstConsumer',
  Scheduled: 'ImportScheduled',
  InProgress: 'ImportInProgress',
  CloneInProgress: 'CloneInProgress',
  Succeeded: 'ImportSucceeded',
  Paused: 'ImportPaused',
  /** Running=False reason Error: the importer failed and is restarting (CDI's message). */
  ImporterError: 'ImporterError',
  /** Running=False reason ImagePullFailed (registry sources). */
  ImagePullFailed: 'ImagePullFailed',
  /** The importer pod cannot be scheduled. */
  Unschedulable: 'ImporterUnschedulable',
  /** CDI's own terminal phase (claim lost, clone errors, checksum mismatch). */
  Failed: 'DataVolumeFailed',
  ClaimLost: 'ClaimLost',
  ChecksumError: 'ChecksumError',
  /** The failure signal persisted past the restart limit or the timeout. */
  RestartLimitExceeded: 'ImportRestartLimitExceeded',
  TimedOut: 'ImportTimedOut',
  Deleting: 'DataVolumeDeleting',
  Unknown: 'Unknown',
} as const;
export type DvReason = (typeof DvReason)[keyof typeof DvReason];

export interface DvClassification {
  state: DvState;
  reason: DvReason;
  /** Human text; on failures CDI's own message (what `kubectl describe dv` shows). */
  message: string;
  /** The underlying CDI reason on failures (`Error`, `ImagePullFailed`, `ClaimLost`, …). */
  cdiReason?: string;
  /** 0–100 when CDI reports a percentage. */
  progress?: number;
  restartCount: number;
}

export interface DvPolicy {
  /** Restarts with the failure signal after which the import counts as failed (default 3). */
  maxRestarts: number;
  /** How long the failure signal may persist before the import counts as failed (default 10 min). */
  importTimeoutMs: number;
  now: number;
}

export const DEFAULT_DV_POLICY: Omit<DvPolicy, 'now'> = { maxRestarts: 3, importTimeoutMs: 10 * 60_000 };

const cond = (s: DataVolumeStatus | undefined, type: string) => s?.conditions?.find((c) => c.type === type);

/** Parses CDI's progress string (`"45.34%"`, `"100.0%"`, `"N/A"`). */
export function parseProgress(p: string | undefined): number | undefined {
  const m = p && /^(\d+(?:\.\d+)?)%$/.exec(p.trim());
  return m ? Math.min(100, Number(m[1])) : undefined;
}

export function classifyDataVolume(dv: DataVolumeLike, policy: DvPolicy): DvClassification {
  const s = dv.status;
  const phase = s?.phase ?? '';
  const restartCount = s?.restartCount ?? 0;
  const progress = parseProgress(s?.progress);
  const base = { restartCount, progress };
  const name = `${dv.metadata.namespace ?? ''}/${dv.metadata.name}`;

  if (dv.metadata.deletionTimestamp)
    return { ...base, state: 'pending', reason: DvReason.Deleting, message: `DataVolume ${name} is being deleted` };
  if (phase === 'Succeeded')
    return { ...base, progress: 100, state: 'succeeded', reason: DvReason.Succeeded, message: `DataVolume ${name} imported` };

  const running = cond(s, 'Running');
  const bound = cond(s, 'Bound');
  if (phase === 'Failed') {
    // ClaimLost is why CDI set Failed whatever Running still says: the Running condition is copied
    // from PVC annotations that outlive the claim (e.g. False / Completed / Import Complete).
    // `Completed` is never a failure cause.
    const runningFailure = running?.status === 'False' && running.reason && running.reason !== 'Completed' ? running : undefined;
    const why = bound?.reason === 'ClaimLost' ? bound : runningFailure;
    const reason =
      why?.reason === 'ClaimLost' ? DvReason.ClaimLost : why?.reason === 'ChecksumError' ? DvReason.ChecksumError : DvReason.Failed;
    return { ...base, state: 'failed', reason, cdiReason: why?.reason ?? 'Failed', message: why?.message || `DataVolume ${name} failed` };
  }

  // CDI's failure signal (KubeVirt's HasDataVolumeErrors): Running False with Error / ImagePullFailed.
  if (running?.status === 'False' && (running.reason === 'Error' || running.reason === 'ImagePullFailed')) {
    const message = running.message || `DataVolume ${name} importer has stopped running due to an error`;
    const cdiReason = running.reason;
    const since = Date.parse(running.lastTransitionTime ?? dv.metadata.creationTimestamp ?? '');
    if (restartCount >= policy.maxRestarts) {
      return { ...base, state: 'failed', reason: DvReason.RestartLimitExceeded, cdiReason, message };
    }
    if (Number.isFinite(since) && policy.now - since > policy.importTimeoutMs) {
      return { ...base, state: 'failed', reason: DvReason.TimedOut, cdiReason, message };
    }
    return {
      ...base,
      state: 'failing',
      reason: cdiReason === 'ImagePullFailed' ? DvReason.ImagePullFailed : DvReason.ImporterError,
      cdiReason,
      message,
    };
  }
  if (running?.status === 'False' && running.reason === 'Unschedulable') {
    return {
      ...base,
      state: 'pending',
      reason: DvReason.Unschedulable,
      cdiReason: 'Unschedulable',
      message: running.message || 'Importer pod cannot be scheduled',
    };
  }

  switch (phase) {
    case '':
    case 'Pending':
    case 'PVCBound':
    case 'PendingPopulation':
    case 'PrepClaimInProgress':
    case 'RebindInProgress':
      return { ...base, state: 'pending', reason: DvReason.Pending, message: `DataVolume ${name} is ${phase || 'being created'}` };
    case 'WaitForFirstConsumer':
      return {
        ...base,
        state: 'pending',
        reason: DvReason.WaitForFirstConsumer,
        message: `DataVolume ${name} waits for its first consumer (WaitForFirstConsumer storage)`,
      };
    case 'ImportScheduled':
    case 'UploadScheduled':
    case 'CloneScheduled':
      return { ...base, state: 'pending', reason: DvReason.Scheduled, message: `DataVolume ${name}: ${phase}` };
    case 'ImportInProgress':
    case 'UploadReady':
    case 'ExpansionInProgress':
    case 'NamespaceTransferInProgress':
      return {
        ...base,
        state: 'importing',
        reason: DvReason.InProgress,
        message: `DataVolume ${name}: ${phase}${s?.progress ? ` ${s.progress}` : ''}`,
      };
    case 'CloneInProgress':
    case 'SnapshotForSmartCloneInProgress':
    case 'CloneFromSnapshotSourceInProgress':
    case 'SmartClonePVCInProgress':
    case 'CSICloneInProgress':
      return { ...base, state: 'importing', reason: DvReason.CloneInProgress, message: `DataVolume ${name}: ${phase}` };
    case 'Paused':
      return { ...base, state: 'pending', reason: DvReason.Paused, message: `DataVolume ${name} is paused (multi-stage import)` };
    default:
      return { ...base, state: 'pending', reason: DvReason.Unknown, message: `DataVolume ${name} is in phase ${phase}` };
  }
}
