/**
 * The simulated CDI worker pod of one DataVolume (importer, clone or upload server), from the
 * moment it is scheduled until the DataVolume succeeds.
 *
 * Faithful to what CDI shows (reference §1.5–1.8):
 * - the pod's container must start first: a missing Secret, or an image that cannot be pulled
 *   (registry pullMethod node), keeps the DV in ImportScheduled with Running False and the
 *   waiting reason (ImagePullFailed: `failed to pull image: <image>`), restartCount unchanged;
 * - a failing importer never makes the DV Failed: restartPolicy OnFailure restarts it after a
 *   CrashLoopBackOff delay, the phase stays ImportInProgress, Running is False / `Error` /
 *   termination message, and restartCount grows — forever;
 * - success: Succeeded, progress `100.0%`, Running False / Completed / `Import Complete`
 *   (`Clone Complete` for clones).
 * A restarted container is shown running (Running True) only once it reports progress: a pod
 * that fails within a second goes from terminated to terminated, as the kubelet reports it.
 */
import { sleep } from '../lifetime.js';
import type { KubeApi } from '../kube/api.js';
import { restartDelay, type ResolvedImporterOptions, type SimulatorTimings } from '../options.js';
import type { StatsRecorder } from '../stats.js';
import { flavorOf, isMissingImage, missingManifestMessage, registryImage, type Flavor } from './dv-flavor.js';
import { importerError, POD_RUNNING, progressString, SUCCEEDED_PROGRESS, type DvState, type RunningState } from './dv-status.js';
import { importHttp, type AttemptResult } from './http-importer.js';
import { resolveHttpSource } from './http-source-config.js';

export interface WorkerDeps {
  api: KubeApi;
  timings: SimulatorTimings;
  importer: ResolvedImporterOptions;
  stats: StatsRecorder;
  /** Writes the DV status for `state` (no-op when unchanged); throws when the DV is gone. */
  write: (state: DvState) => Promise<void>;
  signal: AbortSignal;
}

type Attempt = (onProgress: (fraction: number) => Promise<void>) => Promise<AttemptResult>;
type Gate = { ok: true; attempt: Attempt } | { ok: false; waiting: RunningState; retryMs: number };

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
  const attempt = gate.attempt;

  if (flavor.source === 'upload') {
    // The upload server runs and waits for a client; nothing uploads in the simulator.
    await deps.write({ ...st, phase: 'UploadReady', running: POD_RUNNING });
    return;
  }

  // Resuming a DV whose importer was failing: the next start is a restart, after the backoff.
  let restarting = st.phase === flavor.inProgressPhase && st.running.status === 'False' && st.running.reason === 'Error';
  for (;;) {
    if (restarting) {
      await sleep(restartDelay(deps.timings, st.restartCount + 1), deps.signal);
      st = { ...st, restartCount: st.restartCount + 1 };
    } else {
      st = { ...st, phase: flavor.inProgressPhase, running: POD_RUNNING };
      await deps.write(st);
    }
    deps.stats.inc('importAttempts');
    const result = await attempt(async (fraction) => {
      st = { ...st, phase: flavor.inProgressPhase, progress: progressString(fraction), running: POD_RUNNING };
      await deps.write(st);
    });
    if (result.ok) {
      deps.stats.inc('importsSucceeded');
      await deps.write({ ...st, phase: 'Succeeded', progress: SUCCEEDED_PROGRESS, running: flavor.completion() });
      return;
    }
    deps.stats.inc('importFailures');
    st = { ...st, phase: flavor.inProgressPhase, running: importerError(result.message) };
    await deps.write(st);
    restarting = true;
  }
}

/** Can the worker container start? If so, what does one run of it do? */
async function podGate(dv: any, flavor: Flavor, deps: WorkerDeps): Promise<Gate> {
  const src = dv.spec?.source ?? {};
  const steps = deps.importer.progressSteps;
  const simulated: Attempt = (onProgress) => simulateTransfer(steps, deps, onProgress);
  switch (flavor.source) {
    case 'http': {
      const cfg = await resolveHttpSource(deps.api, dv.metadata.namespace, src.http, deps.importer);
      if (!cfg.ok) return { ok: false, waiting: cfg.waiting, retryMs: deps.timings.restartBackoffMaxMs };
      return {
        ok: true,
        attempt: (onProgress) =>
          importHttp({
            url: String(src.http.url ?? ''),
            contentType: dv.spec?.contentType ?? 'kubevirt',
            fetch: cfg.fetch,
            signal: deps.signal,
            progressSteps: steps,
            chunkMs: deps.timings.importChunkMs,
            idleTimeoutMs: deps.importer.idleTimeoutMs,
            onProgress,
            onBytes: (n) => deps.stats.inc('bytesImported', n),
          }),
      };
    }
    case 'registry': {
      const url = String(src.registry.url ?? '');
      if (!isMissingImage(url)) return { ok: true, attempt: simulated };
      const image = registryImage(url);
      if (src.registry.pullMethod === 'node') {
        // The image is the pod's own container image: the kubelet cannot pull it.
        const waiting: RunningState = { status: 'False', reason: 'ImagePullFailed', message: `failed to pull image: ${image}` };
        return { ok: false, waiting, retryMs: deps.timings.restartBackoffMaxMs };
      }
      return { ok: true, attempt: async () => ({ ok: false, message: missingManifestMessage(image) }) };
    }
    default:
      return { ok: true, attempt: simulated };
  }
}

/** A transfer with nothing real behind it: `steps` progress reports, importChunkMs apart. */
async function simulateTransfer(steps: number, deps: WorkerDeps, onProgress: (f: number) => Promise<void>): Promise<AttemptResult> {
  for (let i = 1; i <= steps; i++) {
    await sleep(deps.timings.importChunkMs, deps.signal);
    await onProgress(i / steps);
  }
  await sleep(deps.timings.importChunkMs, deps.signal);
  return { ok: true };
}
