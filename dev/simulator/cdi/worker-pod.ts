/**
 * The CDI worker pod of one DataVolume (importer, clone or upload server), from the moment it
 * is scheduled until the DataVolume succeeds (or fails for good).
 *
 * For an `http` source the importer is real: CDI's own importer runs as a process
 * (importer-process.ts) into the DataVolume's volume directory, and what the DataVolume shows
 * follows from its exit code and termination message as CDI's controller reads them
 * (termination.ts), its progress from the importer's progress metric. Other sources are
 * simulated transfers.
 *
 * Faithful to what CDI shows (reference §1.5–1.8):
 * - the pod must be scheduled and its container must start first: while the node has no room
 *   for another importer pod (ImporterOptions.maxConcurrent) the DataVolume is ImportScheduled
 *   with Running False / Unschedulable; a missing Secret, or an image that cannot be pulled
 *   (registry pullMethod node), keeps it in ImportScheduled with the waiting reason
 *   (ImagePullFailed: `failed to pull image: <image>`), restartCount unchanged;
 * - a failing importer never makes the DV Failed: restartPolicy OnFailure restarts it after a
 *   CrashLoopBackOff delay, the phase stays ImportInProgress, Running is False / `Error` /
 *   termination message, and restartCount grows — forever; the pod keeps its place on the node;
 * - a checksum mismatch (exit 0, JSON message) is fatal: phase Failed, Running False /
 *   ChecksumError, the pod deleted and not recreated;
 * - success: Succeeded, progress `100.0%`, Running False / Completed / `Import Complete`
 *   (`Clone Complete` for clones).
 * A restarted container is shown running (Running True) only once it reports progress: a pod
 * that fails within a second goes from terminated to terminated, as the kubelet reports it.
 */
import { sleep } from '../lifetime.js';
import type { KubeApi } from '../kube/api.js';
import { restartDelay, type ResolvedImporterOptions, type SimulatorTimings } from '../options.js';
import type { Slots } from '../slots.js';
import type { StatsRecorder } from '../stats.js';
import { flavorOf, isMissingImage, missingManifestMessage, registryImage, type Flavor } from './dv-flavor.js';
import {
  importerError,
  POD_RUNNING,
  progressString,
  SUCCEEDED_PROGRESS,
  UNSCHEDULABLE,
  type DvState,
  type RunningState,
} from './dv-status.js';
import { resolveHttpSource, type HttpPodConfig } from './http-source-config.js';
import { runImporter } from './importer-process.js';
import { outcomeOf, progressFromMetrics, type Outcome } from './termination.js';
import type { VolumeStore } from './volumes.js';

export interface WorkerDeps {
  api: KubeApi;
  timings: SimulatorTimings;
  importer: ResolvedImporterOptions;
  /** The node's room for importer pods. */
  slots: Slots;
  volumes: VolumeStore;
  stats: StatsRecorder;
  /** Writes the DV status for `state` (no-op when unchanged); throws when the DV is gone. */
  write: (state: DvState) => Promise<void>;
  log: (line: string) => void;
  signal: AbortSignal;
}

/** One run of the worker container; `onProgress` gets CDI's progress string ("45.34%"). */
type Attempt = (onProgress: (progress: string) => Promise<void>) => Promise<Outcome>;
type Gate = { ok: true; attempt: Attempt; real: boolean } | { ok: false; waiting: RunningState; retryMs: number };

export async function runWorkerPod(dv: any, initial: DvState, deps: WorkerDeps): Promise<void> {
  const flavor = flavorOf(dv);
  let st: DvState = { ...initial, bound: true };

  // The container has to start before anything runs.
  let gate = await podGate(dv, flavor, deps);
  while (!gate.ok) {
    st = { ...st, phase: flavor.scheduledPhase, running: gate.waiting };
    await deps.write(st);
    await sleep(gate.retryMs, deps.signal);
    gate = await podGate(dv, flavor, deps);
  }
  const { attempt, real } = gate;

  if (flavor.source === 'upload') {
    // The upload server runs and waits for a client; nothing uploads in the simulator.
    await deps.write({ ...st, phase: 'UploadReady', running: POD_RUNNING });
    return;
  }

  // A real importer pod needs room on the node for as long as it exists (restarts included).
  // One that was already crash-looping (a restarted simulator picks it up) had its node.
  if (real && !deps.slots.tryAcquire()) {
    if (!crashLooping(st, flavor)) {
      st = { ...st, phase: flavor.scheduledPhase, running: UNSCHEDULABLE };
      await deps.write(st);
    }
    await deps.slots.acquire(deps.signal);
  }
  try {
    await runContainer(flavor, st, attempt, deps);
  } finally {
    if (real) deps.slots.release();
  }
}

/** The worker container terminated with a failure (Error, or ImagePullFailed read from its message) and restarts. */
function crashLooping(st: DvState, flavor: Flavor): boolean {
  return st.phase === flavor.inProgressPhase && st.running.status === 'False' && ['Error', 'ImagePullFailed'].includes(st.running.reason);
}

async function runContainer(flavor: Flavor, initial: DvState, attempt: Attempt, deps: WorkerDeps): Promise<void> {
  let st = initial;
  // Resuming a DV whose importer was failing: the next start is a restart, after the backoff.
  let restarting = crashLooping(st, flavor);
  for (;;) {
    if (restarting) {
      await sleep(restartDelay(deps.timings, st.restartCount + 1), deps.signal);
      st = { ...st, restartCount: st.restartCount + 1 };
    } else {
      st = { ...st, phase: flavor.inProgressPhase, running: POD_RUNNING };
      await deps.write(st);
    }
    deps.stats.inc('importAttempts');
    const outcome = await attempt(async (progress) => {
      st = { ...st, phase: flavor.inProgressPhase, progress, running: POD_RUNNING };
      await deps.write(st);
    });
    if (outcome.kind === 'succeeded') {
      deps.stats.inc('importsSucceeded');
      await deps.write({ ...st, phase: 'Succeeded', progress: SUCCEEDED_PROGRESS, running: outcome.running });
      return;
    }
    deps.stats.inc('importFailures');
    if (outcome.kind === 'fatal') {
      await deps.write({ ...st, phase: 'Failed', running: outcome.running });
      return;
    }
    st = { ...st, phase: flavor.inProgressPhase, running: outcome.running };
    await deps.write(st);
    restarting = true;
  }
}

/** Can the worker container start? If so, what does one run of it do? */
async function podGate(dv: any, flavor: Flavor, deps: WorkerDeps): Promise<Gate> {
  const src = dv.spec?.source ?? {};
  const simulated: Attempt = (onProgress) => simulateTransfer(flavor, deps, onProgress);
  switch (flavor.source) {
    case 'http': {
      const cfg = await resolveHttpSource(deps.api, dv.metadata.namespace, src.http);
      if (!cfg.ok) return { ok: false, waiting: cfg.waiting, retryMs: deps.timings.restartBackoffMaxMs };
      return { ok: true, real: true, attempt: (onProgress) => importHttp(dv, cfg.pod, deps, onProgress) };
    }
    case 'registry': {
      const url = String(src.registry.url ?? '');
      if (!isMissingImage(url)) return { ok: true, real: false, attempt: simulated };
      const image = registryImage(url);
      if (src.registry.pullMethod === 'node') {
        // The image is the pod's own container image: the kubelet cannot pull it.
        const waiting: RunningState = { status: 'False', reason: 'ImagePullFailed', message: `failed to pull image: ${image}` };
        return { ok: false, waiting, retryMs: deps.timings.restartBackoffMaxMs };
      }
      return { ok: true, real: false, attempt: async () => ({ kind: 'failed', running: importerError(missingManifestMessage(image)) }) };
    }
    default:
      return { ok: true, real: false, attempt: simulated };
  }
}

/** The storage request the PVC gets (IMPORTER_IMAGE_SIZE). */
function requestedSize(dv: any): string | undefined {
  const q = dv.spec?.storage?.resources?.requests?.storage ?? dv.spec?.pvc?.resources?.requests?.storage;
  return q === undefined || q === null || q === '' ? undefined : String(q);
}

let warnedNoQemuImg = false;

/** One start of CDI's importer for an http source. */
async function importHttp(dv: any, pod: HttpPodConfig, deps: WorkerDeps, onProgress: (p: string) => Promise<void>): Promise<Outcome> {
  const tools = deps.volumes.tools(deps.importer.searchPath);
  if (!tools.ok) {
    if (!warnedNoQemuImg) deps.log(tools.message);
    warnedNoQemuImg = true;
    return { kind: 'failed', running: importerError(tools.message) };
  }
  const { namespace, name, uid } = dv.metadata;
  const dirs = deps.volumes.dirsFor(namespace, name, uid);
  deps.volumes.prepare(dirs, pod.certs);
  let latest: string | undefined;
  let shown: string | undefined;
  let finished = false;
  deps.stats.inc('importerProcesses');
  const started = Date.now();
  const run = runImporter({
    binary: deps.importer.binary,
    url: String(dv.spec.source.http.url ?? ''),
    contentType: String(dv.spec.contentType ?? 'kubevirt'),
    imageSize: requestedSize(dv),
    checksum: typeof dv.spec.source.http.checksum === 'string' ? dv.spec.source.http.checksum : undefined,
    ownerUid: uid,
    dirs,
    withCerts: pod.withCerts,
    env: pod.env,
    toolPath: tools.path,
    signal: deps.signal,
    onMetrics: (text) => (latest = progressFromMetrics(text, uid) ?? latest),
  }).finally(() => {
    finished = true;
    deps.stats.inc('importerMs', Date.now() - started);
  });
  // CDI's controller reads the metric while the pod runs, every 2 s (progressPollMs).
  while (!finished) {
    await settledOrAfter(run, deps.timings.progressPollMs);
    if (!finished && latest !== undefined && latest !== shown) {
      shown = latest;
      await onProgress(latest);
    }
  }
  const terminated = await run;
  const outcome = outcomeOf(terminated);
  if (outcome.kind !== 'succeeded') deps.log(`importer exited ${terminated.exitCode}: ${terminated.message}`);
  return outcome;
}

/** Resolves when `p` settles or after `ms`, whichever comes first; leaves no timer behind. */
function settledOrAfter(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((r) => (timer = setTimeout(r, ms))),
  ]).finally(() => clearTimeout(timer));
}

/**
 * A transfer with nothing real behind it: `progressSteps` steps, importChunkMs apart. Its
 * progress reaches the DataVolume as CDI's controllers read it, on their own cadence, not per
 * step: the import controller re-reads the worker's metric every progressPollMs (2 s), the
 * host-assisted clone phase requeues every 3 s to update status (CDI v1.65.0
 * pkg/controller/clone/host-clone.go, `RequeueAfter: 3 * time.Second`) — 1.5 poll intervals, so
 * test timings scale it too. A transfer shorter than one reading shows no progress, only its end.
 */
async function simulateTransfer(flavor: Flavor, deps: WorkerDeps, onProgress: (p: string) => Promise<void>): Promise<Outcome> {
  const steps = deps.importer.progressSteps;
  const readEvery = flavor.source === 'clone' ? deps.timings.progressPollMs * 1.5 : deps.timings.progressPollMs;
  let lastRead = Date.now();
  for (let i = 1; i <= steps; i++) {
    await sleep(deps.timings.importChunkMs, deps.signal);
    if (Date.now() - lastRead >= readEvery) {
      lastRead = Date.now();
      await onProgress(progressString(i / steps));
    }
  }
  await sleep(deps.timings.importChunkMs, deps.signal);
  return { kind: 'succeeded', running: flavor.completion() };
}
