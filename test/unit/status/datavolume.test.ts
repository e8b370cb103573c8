/**
 * Table tests for the DataVolume classifier against the CDI reference
 * (/work/shared/reference/cdi-kubevirt.md §1.5–1.8).
 *
 * Statuses are built the way CDI writes them: conditions Bound / Ready / Running with CDI's
 * reasons and messages, phase ImportInProgress (never Failed) for importer errors, a growing
 * restartCount, progress strings in CDI's `%.2f%%` format.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import {
  classifyDataVolume,
  DEFAULT_DV_POLICY,
  DvReason,
  parseProgress,
  type DataVolumeLike,
  type DataVolumeStatus,
  type DvClassification,
  type DvPolicy,
} from '../../../shared/status/datavolume.js';

const NOW = Date.parse('2025-06-01T12:00:00Z');
const POLICY: DvPolicy = { ...DEFAULT_DV_POLICY, now: NOW };
const ago = (ms: number): string => new Date(NOW - ms).toISOString();
const MIN = 60_000;

type Condition = NonNullable<DataVolumeStatus['conditions']>[number];

// CDI's exact texts (§1.6, §1.7).
const MSG_404 = 'Unable to connect to http data source: expected status code 200, got 404. Status: 404 Not Found';
const MSG_DNS =
  'Unable to connect to http data source: Get "http://images.invalid/disk.img": dial tcp: lookup images.invalid on 10.96.0.10:53: no such host';
const MSG_QCOW2 =
  'Unable to process data: qemu-img: Could not open \'json: {"file.driver": "http", "file.url": "http://cdi-file-host.cdi/invalid-qcow-large-size.img", "file.timeout": 3600}\': L1 size too big';
// The reference fixes only the `Unable to process data` prefix for a non-tar archive; the tail is illustrative.
const MSG_ARCHIVE = 'Unable to process data: archive/tar: invalid tar header';
const MSG_TOO_SMALL = 'DataVolume too small to contain image';
const IMAGE = 'quay.io/containerdisks/ubuntu:22.04-nonexistent';
const MSG_PULL = `failed to pull image: ${IMAGE}`;
const MSG_UNSCHEDULABLE = 'Importer pod cannot be scheduled';

const boundTrue = (pvc = 'm2-root'): Condition => ({ type: 'Bound', status: 'True', reason: 'Bound', message: `PVC ${pvc} Bound` });
const boundPending = (pvc = 'm2-root'): Condition => ({ type: 'Bound', status: 'False', reason: 'Pending', message: `PVC ${pvc} Pending` });
const readyFalse: Condition = { type: 'Ready', status: 'False' };
const runningFalse = (reason: string, message: string, since?: string): Condition => ({
  type: 'Running',
  status: 'False',
  reason,
  message,
  ...(since ? { lastTransitionTime: since } : {}),
});

/** An import whose importer keeps failing: phase stays ImportInProgress (§1.5, §1.8). */
const failingImport = (message: string, restartCount: number, since = ago(MIN), reason = 'Error'): DataVolumeStatus => ({
  claimName: 'm2-root',
  phase: 'ImportInProgress',
  progress: 'N/A',
  restartCount,
  conditions: [boundTrue(), readyFalse, runningFalse(reason, message, since)],
});

interface Row {
  name: string;
  status?: DataVolumeStatus;
  metadata?: Partial<DataVolumeLike['metadata']>;
  policy?: Partial<Omit<DvPolicy, 'now'>>;
  expect: Pick<DvClassification, 'state' | 'reason'> & Partial<DvClassification>;
  /** Substring the message must contain (when the exact text is ours, not CDI's). */
  messageIncludes?: string;
}

function check(row: Row): void {
  const dv: DataVolumeLike = { metadata: { name: 'm2-root', namespace: 'machines', ...row.metadata }, status: row.status };
  const got = classifyDataVolume(dv, { ...POLICY, ...row.policy });
  for (const [key, want] of Object.entries(row.expect)) {
    assert.equal(got[key as keyof DvClassification], want, `${row.name}: ${key} (got ${JSON.stringify(got)})`);
  }
  if (row.messageIncludes !== undefined) {
    assert.ok(
      got.message.includes(row.messageIncludes),
      `${row.name}: message ${JSON.stringify(got.message)} lacks ${JSON.stringify(row.messageIncludes)}`,
    );
  }
  assert.ok(got.message.length > 0, `${row.name}: empty message`);
}

// ─── One row per phase in §1.5 ──────────────────────────────────────────────────────────────

/** §1.5's phase list, verbatim. */
const REFERENCE_PHASES = [
  '',
  'Pending',
  'PVCBound',
  'ImportScheduled',
  'ImportInProgress',
  'CloneScheduled',
  'CloneInProgress',
  'SnapshotForSmartCloneInProgress',
  'CloneFromSnapshotSourceInProgress',
  'SmartClonePVCInProgress',
  'CSICloneInProgress',
  'ExpansionInProgress',
  'NamespaceTransferInProgress',
  'UploadScheduled',
  'UploadReady',
  'WaitForFirstConsumer',
  'PendingPopulation',
  'Succeeded',
  'Failed',
  'Unknown',
  'Paused',
  'PrepClaimInProgress',
  'RebindInProgress',
];

const PHASE_ROWS: [phase: string, state: DvClassification['state'], reason: DvReason][] = [
  ['', 'pending', DvReason.Pending],
  ['Pending', 'pending', DvReason.Pending],
  ['PVCBound', 'pending', DvReason.Pending],
  ['ImportScheduled', 'pending', DvReason.Scheduled],
  ['ImportInProgress', 'importing', DvReason.InProgress],
  ['CloneScheduled', 'pending', DvReason.Scheduled],
  ['CloneInProgress', 'importing', DvReason.CloneInProgress],
  ['SnapshotForSmartCloneInProgress', 'importing', DvReason.CloneInProgress],
  ['CloneFromSnapshotSourceInProgress', 'importing', DvReason.CloneInProgress],
  ['SmartClonePVCInProgress', 'importing', DvReason.CloneInProgress],
  ['CSICloneInProgress', 'importing', DvReason.CloneInProgress],
  ['ExpansionInProgress', 'importing', DvReason.InProgress],
  ['NamespaceTransferInProgress', 'importing', DvReason.InProgress],
  ['UploadScheduled', 'pending', DvReason.Scheduled],
  ['UploadReady', 'importing', DvReason.InProgress],
  ['WaitForFirstConsumer', 'pending', DvReason.WaitForFirstConsumer],
  ['PendingPopulation', 'pending', DvReason.Pending],
  ['Succeeded', 'succeeded', DvReason.Succeeded],
  ['Failed', 'failed', DvReason.Failed],
  ['Unknown', 'pending', DvReason.Unknown],
  ['Paused', 'pending', DvReason.Paused],
  ['PrepClaimInProgress', 'pending', DvReason.Pending],
  ['RebindInProgress', 'pending', DvReason.Pending],
];

test('the phase table covers exactly the phases of reference §1.5', () => {
  assert.equal(
    PHASE_ROWS.map(([p]) => p),
    REFERENCE_PHASES,
  );
});

for (const [phase, state, reason] of PHASE_ROWS) {
  test(`phase ${JSON.stringify(phase)} → ${state} / ${reason}`, () => {
    check({ name: `phase ${JSON.stringify(phase)}`, status: phase === '' ? {} : { phase }, expect: { state, reason, restartCount: 0 } });
  });
}

test('no status at all is the "" phase', () => {
  check({ name: 'no status', expect: { state: 'pending', reason: DvReason.Pending, restartCount: 0, progress: undefined } });
});

test('a phase this CDI does not know is pending / Unknown, named in the message', () => {
  check({
    name: 'future phase',
    status: { phase: 'SomeFuturePhase' },
    expect: { state: 'pending', reason: DvReason.Unknown },
    messageIncludes: 'SomeFuturePhase',
  });
});

test("ImportInProgress carries the parsed progress and shows CDI's string", () => {
  check({
    name: 'progress',
    status: {
      phase: 'ImportInProgress',
      progress: '45.34%',
      conditions: [
        boundTrue(),
        { type: 'Ready', status: 'False', reason: 'TransferRunning' },
        { type: 'Running', status: 'True', reason: 'Pod is running', message: '' },
      ],
    },
    expect: { state: 'importing', reason: DvReason.InProgress, progress: 45.34 },
    messageIncludes: '45.34%',
  });
});

// ─── The reference's two status examples, verbatim ───────────────────────────────────────────

/** §1.8 "Failed import (constructed from code + tests)", copied verbatim. */
const FAILED_IMPORT_YAML = `
status:
  claimName: m2-root
  phase: ImportInProgress        # never "Failed" for HTTP errors
  progress: N/A
  restartCount: 4                # grows with each importer restart (CrashLoopBackOff)
  conditions:
  - {type: Bound, status: "True", reason: Bound, message: PVC m2-root Bound}
  - {type: Ready, status: "False"}
  - type: Running
    status: "False"
    reason: Error
    message: 'Unable to connect to http data source: expected status code 200, got 404. Status: 404 Not Found'
`;
const failedImport = (parse(FAILED_IMPORT_YAML) as { status: DataVolumeStatus }).status;

/** §1.8 "Successful import", written out from the prose. */
const successfulImport: DataVolumeStatus = {
  claimName: 'm2-root',
  phase: 'Succeeded',
  progress: '100.0%',
  restartCount: 0,
  conditions: [boundTrue(), { type: 'Ready', status: 'True' }, runningFalse('Completed', 'Import Complete')],
};

const EXAMPLE_ROWS: Row[] = [
  {
    name: 'reference failed-import example (restartCount 4 ≥ default limit 3)',
    status: failedImport,
    expect: {
      state: 'failed',
      reason: DvReason.RestartLimitExceeded,
      cdiReason: 'Error',
      message: MSG_404,
      restartCount: 4,
      progress: undefined,
    },
  },
  {
    name: 'reference failed-import example under a higher restart limit',
    status: failedImport,
    policy: { maxRestarts: 10 },
    expect: { state: 'failing', reason: DvReason.ImporterError, cdiReason: 'Error', message: MSG_404, restartCount: 4 },
  },
  {
    name: 'reference successful-import example',
    status: successfulImport,
    expect: { state: 'succeeded', reason: DvReason.Succeeded, progress: 100, restartCount: 0, cdiReason: undefined },
  },
];

// ─── Failure situations (§1.6–1.8) ─────────────────────────────────────────────────────────

const FAILURE_ROWS: Row[] = [
  {
    name: 'HTTP 404, restartCount below the limit',
    status: failingImport(MSG_404, 1),
    expect: { state: 'failing', reason: DvReason.ImporterError, cdiReason: 'Error', message: MSG_404, restartCount: 1 },
  },
  {
    name: 'HTTP 404, first failure (restartCount 0)',
    status: failingImport(MSG_404, 0),
    expect: { state: 'failing', reason: DvReason.ImporterError, cdiReason: 'Error', message: MSG_404, restartCount: 0 },
  },
  {
    name: 'HTTP 404, restartCount at the limit',
    status: failingImport(MSG_404, DEFAULT_DV_POLICY.maxRestarts),
    expect: { state: 'failed', reason: DvReason.RestartLimitExceeded, cdiReason: 'Error', message: MSG_404, restartCount: 3 },
  },
  {
    name: 'HTTP 404, restartCount above the limit',
    status: failingImport(MSG_404, 12),
    expect: { state: 'failed', reason: DvReason.RestartLimitExceeded, cdiReason: 'Error', message: MSG_404, restartCount: 12 },
  },
  {
    name: 'HTTP 404 with populators (Bound False / Pending, PVC′ not yet rebound)',
    status: {
      claimName: 'm2-root',
      phase: 'ImportInProgress',
      progress: 'N/A',
      restartCount: 1,
      conditions: [boundPending(), readyFalse, runningFalse('Error', MSG_404, ago(MIN))],
    },
    expect: { state: 'failing', reason: DvReason.ImporterError, cdiReason: 'Error', message: MSG_404 },
  },
  {
    name: 'bad DNS',
    status: failingImport(MSG_DNS, 1),
    expect: { state: 'failing', reason: DvReason.ImporterError, cdiReason: 'Error', message: MSG_DNS },
    messageIncludes: 'Unable to connect to http data source',
  },
  {
    name: 'bad qcow2 (L1 size too big)',
    status: failingImport(MSG_QCOW2, 2),
    expect: { state: 'failing', reason: DvReason.ImporterError, cdiReason: 'Error', message: MSG_QCOW2 },
    messageIncludes: 'Unable to process data: qemu-img: Could not open \'json: {"file.driver": "http"',
  },
  {
    name: 'bad qcow2 past the restart limit',
    status: failingImport(MSG_QCOW2, 5),
    expect: { state: 'failed', reason: DvReason.RestartLimitExceeded, cdiReason: 'Error', message: MSG_QCOW2 },
  },
  {
    name: 'contentType archive with a non-tar source',
    status: failingImport(MSG_ARCHIVE, 1),
    expect: { state: 'failing', reason: DvReason.ImporterError, cdiReason: 'Error', message: MSG_ARCHIVE },
    messageIncludes: 'Unable to process data',
  },
  {
    name: 'DataVolume too small to contain image (CDI-rewritten ENOSPC)',
    status: failingImport(MSG_TOO_SMALL, 1),
    expect: { state: 'failing', reason: DvReason.ImporterError, cdiReason: 'Error', message: MSG_TOO_SMALL },
  },
  {
    name: 'ImagePullFailed (registry source; importer pod never starts, phase ImportScheduled)',
    status: {
      claimName: 'm2-root',
      phase: 'ImportScheduled',
      progress: 'N/A',
      restartCount: 0,
      conditions: [boundTrue(), readyFalse, runningFalse('ImagePullFailed', MSG_PULL, ago(2 * MIN))],
    },
    expect: { state: 'failing', reason: DvReason.ImagePullFailed, cdiReason: 'ImagePullFailed', message: MSG_PULL, restartCount: 0 },
  },
  {
    name: 'ImagePullFailed persisting past the timeout',
    status: {
      claimName: 'm2-root',
      phase: 'ImportScheduled',
      progress: 'N/A',
      restartCount: 0,
      conditions: [boundTrue(), readyFalse, runningFalse('ImagePullFailed', MSG_PULL, ago(11 * MIN))],
    },
    expect: { state: 'failed', reason: DvReason.TimedOut, cdiReason: 'ImagePullFailed', message: MSG_PULL },
  },
  {
    name: 'importer pod Unschedulable',
    status: {
      claimName: 'm2-root',
      phase: 'ImportScheduled',
      progress: 'N/A',
      conditions: [boundTrue(), readyFalse, runningFalse('Unschedulable', MSG_UNSCHEDULABLE, ago(MIN))],
    },
    expect: { state: 'pending', reason: DvReason.Unschedulable, cdiReason: 'Unschedulable', message: MSG_UNSCHEDULABLE },
  },
  {
    name: 'Unschedulable for longer than the import timeout is still pending (not an importer error)',
    status: {
      claimName: 'm2-root',
      phase: 'ImportScheduled',
      progress: 'N/A',
      conditions: [boundTrue(), readyFalse, runningFalse('Unschedulable', MSG_UNSCHEDULABLE, ago(60 * MIN))],
    },
    expect: { state: 'pending', reason: DvReason.Unschedulable, cdiReason: 'Unschedulable' },
  },
  {
    name: 'phase Failed with Bound ClaimLost (import had completed; Running keeps Completed / Import Complete)',
    status: {
      claimName: 'm2-root',
      phase: 'Failed',
      progress: '100.0%',
      conditions: [
        { type: 'Bound', status: 'False', reason: 'ClaimLost', message: 'Claim Lost' },
        readyFalse,
        runningFalse('Completed', 'Import Complete'),
      ],
    },
    expect: { state: 'failed', reason: DvReason.ClaimLost, cdiReason: 'ClaimLost', message: 'Claim Lost' },
  },
  {
    name: 'phase Failed with Bound ClaimLost while the importer was failing',
    status: {
      claimName: 'm2-root',
      phase: 'Failed',
      progress: 'N/A',
      restartCount: 1,
      conditions: [
        { type: 'Bound', status: 'False', reason: 'ClaimLost', message: 'Claim Lost' },
        readyFalse,
        runningFalse('Error', MSG_404, ago(MIN)),
      ],
    },
    expect: { state: 'failed', reason: DvReason.ClaimLost, cdiReason: 'ClaimLost', message: 'Claim Lost' },
  },
  {
    name: 'phase Failed with Bound ClaimLost mid-import (Running True)',
    status: {
      claimName: 'm2-root',
      phase: 'Failed',
      progress: '12.00%',
      conditions: [
        { type: 'Bound', status: 'False', reason: 'ClaimLost', message: 'Claim Lost' },
        readyFalse,
        { type: 'Running', status: 'True', reason: 'Pod is running', message: '' },
      ],
    },
    expect: { state: 'failed', reason: DvReason.ClaimLost, cdiReason: 'ClaimLost', message: 'Claim Lost' },
  },
  {
    name: 'phase Failed without a cause: a leftover Running Completed / Import Complete is not reported as the cause',
    status: { claimName: 'm2-root', phase: 'Failed', conditions: [boundTrue(), readyFalse, runningFalse('Completed', 'Import Complete')] },
    expect: { state: 'failed', reason: DvReason.Failed, cdiReason: 'Failed', message: 'DataVolume machines/m2-root failed' },
  },
  {
    name: 'checksum mismatch (v1.65+: phase Failed, Running reason ChecksumError)',
    status: {
      claimName: 'm2-root',
      phase: 'Failed',
      progress: 'N/A',
      conditions: [boundTrue(), readyFalse, runningFalse('ChecksumError', 'Unable to process data: checksum mismatch', ago(MIN))],
    },
    expect: {
      state: 'failed',
      reason: DvReason.ChecksumError,
      cdiReason: 'ChecksumError',
      message: 'Unable to process data: checksum mismatch',
    },
  },
  {
    name: 'clone error (phase Failed, Running False / Error)',
    status: {
      claimName: 'm2-root',
      phase: 'Failed',
      conditions: [boundTrue(), readyFalse, runningFalse('Error', 'clone source PVC is gone', ago(MIN))],
    },
    expect: { state: 'failed', reason: DvReason.Failed, cdiReason: 'Error', message: 'clone source PVC is gone' },
  },
  {
    name: 'timeout: failure signal older than importTimeoutMs (via Running lastTransitionTime)',
    status: failingImport(MSG_404, 1, ago(DEFAULT_DV_POLICY.importTimeoutMs + MIN)),
    expect: { state: 'failed', reason: DvReason.TimedOut, cdiReason: 'Error', message: MSG_404, restartCount: 1 },
  },
  {
    name: 'timeout boundary: signal exactly importTimeoutMs old is still failing',
    status: failingImport(MSG_404, 1, ago(DEFAULT_DV_POLICY.importTimeoutMs)),
    expect: { state: 'failing', reason: DvReason.ImporterError },
  },
  {
    name: 'timeout under a custom policy (importTimeoutMs 2 min, signal 3 min old)',
    status: failingImport(MSG_404, 0, ago(3 * MIN)),
    policy: { importTimeoutMs: 2 * MIN },
    expect: { state: 'failed', reason: DvReason.TimedOut, cdiReason: 'Error' },
  },
  {
    name: 'timeout falls back to creationTimestamp when the condition has no lastTransitionTime',
    status: {
      claimName: 'm2-root',
      phase: 'ImportInProgress',
      progress: 'N/A',
      restartCount: 0,
      conditions: [boundTrue(), readyFalse, runningFalse('Error', MSG_404)],
    },
    metadata: { creationTimestamp: ago(30 * MIN) },
    expect: { state: 'failed', reason: DvReason.TimedOut, message: MSG_404 },
  },
  {
    name: 'restart limit wins over a fresh signal (both would apply: limit reported)',
    status: failingImport(MSG_404, 3, ago(DEFAULT_DV_POLICY.importTimeoutMs + MIN)),
    expect: { state: 'failed', reason: DvReason.RestartLimitExceeded },
  },
  {
    name: 'success after restarts (restartCount 2) is still succeeded',
    status: { ...successfulImport, restartCount: 2 },
    expect: { state: 'succeeded', reason: DvReason.Succeeded, progress: 100, restartCount: 2 },
  },
  {
    name: 'clone success with restartCount 1 (real clone dump) is succeeded',
    status: {
      claimName: 'm2-root',
      phase: 'Succeeded',
      progress: '100.0%',
      restartCount: 1,
      conditions: [boundTrue(), { type: 'Ready', status: 'True' }, runningFalse('Completed', 'Clone Complete')],
    },
    expect: { state: 'succeeded', reason: DvReason.Succeeded, progress: 100, restartCount: 1 },
  },
  {
    name: 'success far past the restart limit and timeout is still succeeded',
    status: {
      ...successfulImport,
      restartCount: 9,
      conditions: [boundTrue(), { type: 'Ready', status: 'True' }, runningFalse('Completed', 'Import Complete', ago(120 * MIN))],
    },
    expect: { state: 'succeeded', reason: DvReason.Succeeded, restartCount: 9 },
  },
  {
    name: 'CrashLoopBackOff era: Running stays False / Error with the last termination message',
    status: failingImport(MSG_404, 2, ago(3 * MIN)),
    expect: { state: 'failing', reason: DvReason.ImporterError, cdiReason: 'Error', message: MSG_404, restartCount: 2 },
  },
  {
    name: 'importer back up after restarts (Running True) is importing, not failing',
    status: {
      claimName: 'm2-root',
      phase: 'ImportInProgress',
      progress: '3.10%',
      restartCount: 5,
      conditions: [boundTrue(), readyFalse, { type: 'Running', status: 'True', reason: 'Pod is running', message: '' }],
    },
    expect: { state: 'importing', reason: DvReason.InProgress, progress: 3.1, restartCount: 5 },
  },
  {
    name: 'importer waiting with a non-failure reason (ContainerCreating) is not a failure',
    status: {
      claimName: 'm2-root',
      phase: 'ImportScheduled',
      progress: 'N/A',
      conditions: [boundTrue(), readyFalse, runningFalse('ContainerCreating', '', ago(30 * MIN))],
    },
    expect: { state: 'pending', reason: DvReason.Scheduled },
  },
  {
    name: 'deletionTimestamp set on a failing import',
    status: failingImport(MSG_404, 7),
    metadata: { deletionTimestamp: ago(MIN) },
    expect: { state: 'pending', reason: DvReason.Deleting, restartCount: 7 },
  },
  {
    name: 'deletionTimestamp set on a succeeded import',
    status: successfulImport,
    metadata: { deletionTimestamp: ago(MIN) },
    expect: { state: 'pending', reason: DvReason.Deleting },
  },
];

for (const row of [...EXAMPLE_ROWS, ...FAILURE_ROWS]) test(row.name, () => check(row));

test("the failed-import example parses to CDI's shapes (string progress, numeric restartCount)", () => {
  assert.is(failedImport.progress, 'N/A');
  assert.is(failedImport.restartCount, 4);
  assert.is(failedImport.conditions?.find((c) => c.type === 'Running')?.message, MSG_404);
});

test('DEFAULT_DV_POLICY: 3 restarts, 10 minutes', () => {
  assert.equal(DEFAULT_DV_POLICY, { maxRestarts: 3, importTimeoutMs: 600_000 });
});

// ─── parseProgress (§1.5) ──────────────────────────────────────────────────────────────────

const PROGRESS_ROWS: [input: string | undefined, want: number | undefined][] = [
  ['45.34%', 45.34],
  ['100.0%', 100],
  ['0.00%', 0],
  ['N/A', undefined],
  ['', undefined],
  [undefined, undefined],
  ['garbage', undefined],
  ['45.34', undefined],
  ['%', undefined],
  ['-1.00%', undefined],
  ['45,34%', undefined],
  ['150.00%', 100],
];

for (const [input, want] of PROGRESS_ROWS) {
  test(`parseProgress(${JSON.stringify(input)}) → ${want}`, () => {
    assert.is(parseProgress(input), want);
  });
}

test.run();
