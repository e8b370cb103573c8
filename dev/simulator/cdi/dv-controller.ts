/**
 * The CDI DataVolume controller, simulated: '' → Pending (PVC created, not yet bound) →
 * ImportScheduled (PVC bound, importer pod pending) → the worker pod (worker-pod.ts).
 * No PVC or Pod objects are created: their state is folded into the DV status as CDI would
 * derive it. Status goes through the /status subresource (the DV CRD has one).
 *
 * Level-based: a DV is picked up from whatever phase its status shows, so a restarted
 * simulator (or one started after the DVs) continues each DV where it stands.
 */
import { DATA_VOLUME, objectPath } from '../../../shared/kube/paths.js';
import { abortError, isAbort, type Lifetime } from '../lifetime.js';
import type { KubeApi } from '../kube/api.js';
import { GoneError, patchObject, withoutNulls, type Writer } from '../kube/writes.js';
import { keyOf, type Informer } from '../kube/informer.js';
import type { ResolvedImporterOptions, SimulatorTimings } from '../options.js';
import { Slots } from '../slots.js';
import type { StatsRecorder } from '../stats.js';
import { WorkQueue } from '../work-queue.js';
import { flavorOf, workerPhase } from './dv-flavor.js';
import { dvStatus, NOT_RUNNING, sameDvStatus, stateFromStatus, SUCCEEDED_PROGRESS, type DvState } from './dv-status.js';
import type { VolumeStore } from './volumes.js';
import { runWorkerPod } from './worker-pod.js';
import { nowTimestamp } from '../time.js';
import { CLONE_WITHOUT_SOURCE, cloneSourceState } from './clone-source.js';
import { cloneStrategyOf } from './clone-strategy.js';

const FIELD_MANAGER = 'cdi-controller';

interface Worker {
  uid: string;
  abort: AbortController;
}

export class DataVolumeController {
  private readonly queue: WorkQueue;
  private readonly workers = new Map<string, Worker>();
  /** uid → the worker task, until it (and any importer process it ran) has ended. */
  private readonly running = new Map<string, Promise<void>>();
  /** uid → when we last moved it one step (in-memory; a restarted simulator steps at once). */
  private readonly lastStep = new Map<string, number>();
  private readonly writer: Writer;
  /** The simulated node's room for importer pods. */
  private readonly slots: Slots;
  /** Clones waiting on a source DataVolume (source key → clone keys): woken by its changes. */
  private readonly cloneWaiters = new Map<string, Set<string>>();
  /** uid → the last reason a clone was held back (logged once per reason). */
  private readonly cloneHeld = new Map<string, string>();

  constructor(
    private readonly dvs: Informer,
    private readonly api: KubeApi,
    private readonly life: Lifetime,
    private readonly timings: SimulatorTimings,
    private readonly importer: ResolvedImporterOptions,
    private readonly volumes: VolumeStore,
    private readonly stats: StatsRecorder,
    private readonly log: (line: string) => void,
  ) {
    this.writer = { api, life, stats };
    this.slots = new Slots(importer.maxConcurrent);
    this.queue = new WorkQueue(
      'datavolume',
      (k) => this.reconcile(k),
      life,
      (k, e) => {
        stats.inc('reconcileErrors');
        log(`DataVolume ${k}: ${e instanceof Error ? e.message : String(e)}`);
      },
    );
    dvs.on((type, obj) => {
      if (type === 'DELETED') {
        this.lastStep.delete(obj.metadata.uid);
        this.cloneHeld.delete(obj.metadata.uid);
        this.removeVolume(obj);
      }
      const key = keyOf(obj.metadata.namespace, obj.metadata.name);
      this.queue.add(key);
      for (const clone of this.cloneWaiters.get(key) ?? []) this.queue.add(clone);
    });
  }

  /** The PVC is gone with its DataVolume: its directory goes once no importer writes to it. */
  private removeVolume(dv: any): void {
    const { namespace, name, uid } = dv.metadata;
    const dirs = this.volumes.dirsFor(namespace, name, uid);
    const key = keyOf(namespace, name);
    const worker = this.workers.get(key);
    if (worker && worker.uid === uid) {
      worker.abort.abort();
      this.workers.delete(key);
    }
    const remove = (): void => {
      try {
        this.volumes.remove(dirs);
      } catch (e) {
        this.log(`DataVolume ${key}: removing ${dirs.root}: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
    const task = this.running.get(uid);
    if (task) void task.finally(remove);
    else remove();
  }

  /** The imported disk of DataVolume `namespace/name` (its current uid), if there is one. */
  diskOf(namespace: string, name: string): string | undefined {
    const dv = this.dvs.get(namespace, name);
    return dv ? this.volumes.dirsFor(namespace, name, dv.metadata.uid).disk : undefined;
  }

  /** Starts reconciling (after the caches' first sync). */
  start(): void {
    this.queue.start();
  }

  private async reconcile(key: string): Promise<void> {
    const [ns, name] = key.split('/') as [string, string];
    const dv = this.dvs.get(ns, name);
    const worker = this.workers.get(key);
    if (worker && (!dv || dv.metadata.uid !== worker.uid || dv.metadata.deletionTimestamp)) {
      worker.abort.abort();
      this.workers.delete(key);
    }
    if (!dv || dv.metadata.deletionTimestamp || this.workers.has(key)) return;

    const uid: string = dv.metadata.uid;
    const state = stateFromStatus(dv.status);
    const wait = (this.lastStep.get(uid) ?? 0) + this.timings.dvStepMs - Date.now();
    if (state.phase === '') {
      // CDI creates no target PVC for a clone whose source PVC does not exist: the phase stays.
      if (await this.cloneHeldBack(key, dv, ['missing'])) return;
      await this.step(dv, { phase: 'Pending', restartCount: 0, bound: false, running: NOT_RUNNING });
    } else if (state.phase === 'Pending') {
      if (wait > 0) return this.queue.addAfter(key, wait);
      await this.step(dv, { ...state, phase: flavorOf(dv).scheduledPhase, bound: true, running: NOT_RUNNING });
    } else if (workerPhase(state.phase)) {
      if (wait > 0) return this.queue.addAfter(key, wait);
      // A clone stays CloneScheduled until its source is populated.
      if (state.phase === 'CloneScheduled' && (await this.cloneHeldBack(key, dv, ['missing', 'not-populated']))) return;
      // A CSI clone is the driver's: no pod copies (clone-strategy.ts).
      if (state.phase === 'CloneScheduled' && (await cloneStrategyOf(dv, this.dvs, this.api)) === 'csi-clone') {
        return this.step(dv, { ...state, phase: 'CSICloneInProgress', running: NOT_RUNNING });
      }
      this.startWorker(key, dv, state);
    } else if (state.phase === 'CSICloneInProgress') {
      // The driver's clone is done when its PVC binds: one step, whatever the size.
      if (wait > 0) return this.queue.addAfter(key, wait);
      this.stats.inc('importsSucceeded');
      await this.step(dv, { ...state, phase: 'Succeeded', progress: SUCCEEDED_PROGRESS, running: NOT_RUNNING });
    }
    // Succeeded, Failed, UploadReady and phases we do not drive: nothing to do.
  }

  /**
   * True when `dv` is a clone whose source is in one of the `holding` states: it is requeued
   * when the source DataVolume changes (and polled, for a source that is not a DataVolume).
   */
  private async cloneHeldBack(key: string, dv: any, holding: ('missing' | 'not-populated')[]): Promise<boolean> {
    if (flavorOf(dv).source !== 'clone') return false;
    const src = await cloneSourceState(dv, this.dvs, this.api);
    const srcPvc = dv.spec?.source?.pvc;
    const srcKey = srcPvc?.name ? keyOf(srcPvc.namespace || dv.metadata.namespace, srcPvc.name) : undefined;
    if (src.kind === 'ready' || !holding.includes(src.kind)) {
      if (srcKey) this.cloneWaiters.get(srcKey)?.delete(key);
      return false;
    }
    if (srcKey) {
      let waiters = this.cloneWaiters.get(srcKey);
      if (!waiters) this.cloneWaiters.set(srcKey, (waiters = new Set()));
      waiters.add(key);
    }
    const why = src.kind === 'missing' ? `Warning ${CLONE_WITHOUT_SOURCE}: ${src.message}` : `clone waits: ${src.message}`;
    if (this.cloneHeld.get(dv.metadata.uid) !== why) {
      this.cloneHeld.set(dv.metadata.uid, why);
      this.log(`DataVolume ${key}: ${why}`);
    }
    this.queue.addAfter(key, Math.max(this.timings.dvStepMs, 1000));
    return true;
  }

  private async step(dv: any, state: DvState): Promise<void> {
    try {
      await this.write(dv.metadata.namespace, dv.metadata.name, dv.metadata.uid, state);
    } catch (e) {
      if (e instanceof GoneError) return; // deleted or replaced: its own events follow
      throw e;
    }
    this.lastStep.set(dv.metadata.uid, Date.now());
    this.queue.addAfter(keyOf(dv.metadata.namespace, dv.metadata.name), this.timings.dvStepMs);
  }

  private startWorker(key: string, dv: any, state: DvState): void {
    const abort = new AbortController();
    const signal = AbortSignal.any([abort.signal, this.life.signal]);
    const { namespace, name, uid } = dv.metadata;
    const task = runWorkerPod(dv, state, {
      api: this.api,
      timings: this.timings,
      importer: this.importer,
      slots: this.slots,
      volumes: this.volumes,
      stats: this.stats,
      log: (line) => this.log(`DataVolume ${key}: ${line}`),
      signal,
      write: async (s) => {
        if (signal.aborted) throw abortError();
        await this.write(namespace, name, uid, s);
      },
    })
      .catch((e) => {
        if (isAbort(e) || e instanceof GoneError || signal.aborted) return;
        this.log(`DataVolume ${key}: worker failed: ${e instanceof Error ? e.message : String(e)}`);
        this.stats.inc('reconcileErrors');
        // Let the reconciler start a fresh worker after a pause.
        this.life.after(this.timings.restartBackoffMs, () => this.queue.add(key));
      })
      .finally(() => {
        if (this.workers.get(key) === worker) this.workers.delete(key);
        if (this.running.get(uid) === task) this.running.delete(uid);
      });
    const worker: Worker = { uid, abort };
    this.workers.set(key, worker);
    this.running.set(uid, task);
    this.life.run(`DataVolume ${key} worker`, task, () => {});
  }

  /** Writes the status for `state` through /status, unless it would change nothing. */
  private async write(namespace: string, name: string, uid: string, state: DvState): Promise<void> {
    const cur = this.dvs.get(namespace, name);
    if (!cur || cur.metadata.uid !== uid) throw new GoneError(`${namespace}/${name} gone`);
    const status = dvStatus(name, cur.status, state, nowTimestamp());
    if (sameDvStatus(cur.status, status)) return;
    const path = objectPath(DATA_VOLUME, namespace, name, 'status');
    await patchObject(this.writer, this.dvs, path, uid, [{ op: 'add', path: '/status', value: withoutNulls(status) }], FIELD_MANAGER);
    this.stats.inc('statusWrites');
    const was = stateFromStatus(cur.status);
    if (was.phase !== state.phase || was.running.message !== state.running.message || was.restartCount !== state.restartCount) {
      const why = state.running.reason
        ? ` (Running ${state.running.status}/${state.running.reason}${state.running.message ? `: ${state.running.message}` : ''})`
        : '';
      const restarts = state.restartCount > 0 ? ` restarts=${state.restartCount}` : '';
      this.log(`DataVolume ${namespace}/${name}: ${state.phase}${restarts}${why}`);
    }
  }

  /** Aborts every worker (stop()). */
  abortAll(): void {
    for (const w of this.workers.values()) w.abort.abort();
    this.workers.clear();
  }
}
