/**
 * How an importer container's end reaches the DataVolume: the kubelet's terminated state
 * (reason, termination message) and CDI's reading of it (pkg/controller/util.go
 * setAnnotationsFromPodWithPrefix, parseTerminationMessage, simplifyKnownMessage;
 * pkg/controller/import-controller.go updatePvcFromPod; datavolume/import-controller.go
 * updateStatusPhase).
 *
 * Pure: the process runner supplies what the kubelet would have seen.
 */
import type { RunningState } from './dv-status.js';

/** The kubelet reads at most this much of the termination-message file (maxContainerTerminationMessageLength). */
export const MAX_TERMINATION_MESSAGE = 4096;
/** TerminationMessagePolicy FallbackToLogsOnError: the log's last 80 lines, at most 2048 bytes. */
const FALLBACK_LOG_LINES = 80;
const FALLBACK_LOG_BYTES = 2048;

/** A container's terminated state as the kubelet reports it. */
export interface Terminated {
  exitCode: number;
  /** `Completed` (exit 0) or `Error`. */
  reason: string;
  message: string;
}

/**
 * The kubelet's terminated state for an importer container (CDI sets
 * terminationMessagePolicy FallbackToLogsOnError): the termination-message file, or on a
 * failure with an empty file the tail of the container's log.
 */
export function terminatedState(exitCode: number, terminationFile: string, log: string): Terminated {
  let message = Buffer.from(terminationFile, 'utf8').subarray(0, MAX_TERMINATION_MESSAGE).toString('utf8');
  if (message === '' && exitCode !== 0) {
    const lines = log.replace(/\n$/, '').split('\n').slice(-FALLBACK_LOG_LINES).join('\n');
    const bytes = Buffer.from(lines, 'utf8');
    message = bytes.subarray(Math.max(0, bytes.length - FALLBACK_LOG_BYTES)).toString('utf8');
  }
  return { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', message };
}

/** CDI's simplifyKnownMessage: out-of-space errors become one sentence. */
export function simplifyKnownMessage(message: string): string {
  return /is larger than the reported available|no space left on device|file largest block is bigger than maxblock|disk quota exceeded/.test(
    message,
  )
    ? 'DataVolume too small to contain image'
    : message;
}

/**
 * What CDI makes of a terminated importer:
 * - `succeeded`: pod Succeeded → DataVolume Succeeded;
 * - `failed`: the container restarts (restartPolicy OnFailure), the DataVolume stays in progress;
 * - `fatal` (a checksum mismatch, v1.65+): the pod is deleted and not recreated, DataVolume Failed.
 */
export type Outcome = { kind: 'succeeded' | 'failed' | 'fatal'; running: RunningState };

export function outcomeOf(t: Terminated): Outcome {
  // parseTerminationMessage: JSON, and only for exit code 0.
  let json: { message?: unknown } | undefined;
  if (t.exitCode === 0) {
    try {
      const parsed: unknown = JSON.parse(t.message);
      if (parsed && typeof parsed === 'object') json = parsed as { message?: unknown };
    } catch {
      json = undefined;
    }
  }
  if (json) {
    const message = typeof json.message === 'string' ? json.message : '';
    if (message.includes('checksum mismatch')) {
      return { kind: 'fatal', running: { status: 'False', reason: 'ChecksumError', message } };
    }
    return { kind: 'succeeded', running: { status: 'False', reason: t.reason, message } };
  }
  // Plain (legacy) message.
  const message = simplifyKnownMessage(t.message);
  const reason = t.message.includes('failed to pull image') ? 'ImagePullFailed' : t.reason;
  return { kind: t.exitCode === 0 ? 'succeeded' : 'failed', running: { status: 'False', reason, message } };
}

/**
 * CDI's controller reads progress with this expression (GetProgressReportFromURL) from the
 * importer's metrics text, then formats it `%.2f%%` (updateProgressUsingPod).
 */
export function progressFromMetrics(text: string, ownerUid: string): string | undefined {
  const re = new RegExp(
    `(kubevirt_cdi_import_progress_total|kubevirt_cdi_clone_progress_total)\\{ownerUID\\=${JSON.stringify(ownerUid)}\\} (\\d{1,3}\\.?\\d*)`,
  );
  const m = re.exec(text);
  if (!m) return undefined;
  const f = Number.parseFloat(m[2]!);
  return Number.isFinite(f) ? `${f.toFixed(2)}%` : undefined;
}
