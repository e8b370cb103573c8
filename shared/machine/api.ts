/**
 * Reads and writes of Machines on the Machines' cluster. The Machine CRD has no status
 * subresource (machine-controller's), so status goes through an ordinary merge patch.
 */
import { ApiError, type KubeClient } from '../kube/rest.js';
import { MACHINE, objectPath } from '../kube/paths.js';
import { recordEvent } from '../kube/events.js';
import { MACHINE_FINALIZER } from '../constants.js';
import type { Machine } from './types.js';
import { applyMergePatch } from '../json/merge-patch.js';

export class MachineApi {
  constructor(
    readonly kube: KubeClient,
    readonly component = 'kubevirt-machine-functions',
  ) {}

  get(namespace: string, name: string): Promise<Machine | undefined> {
    return this.kube.get<Machine>(objectPath(MACHINE, namespace, name));
  }

  /**
   * Adds our finalizer to exactly the Machine version `candidate` describes (resourceVersion
   * precondition). Returns the updated Machine, 'stale' when `candidate` is outdated (409; the
   * caller re-reads) or 'gone' (404). Doubles as the level-triggered read when the event is fresh.
   */
  async addFinalizer(candidate: Machine, status?: Record<string, unknown>): Promise<Machine | 'stale' | 'gone'> {
    const finalizers = [...(candidate.metadata.finalizers ?? []), MACHINE_FINALIZER];
    try {
      return await this.kube.patch<Machine>(objectPath(MACHINE, candidate.metadata.namespace, candidate.metadata.name), 'merge', {
        metadata: { resourceVersion: candidate.metadata.resourceVersion, finalizers },
        ...(status ? { status } : {}),
      });
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) return 'stale';
      if (e instanceof ApiError && e.status === 404) return 'gone';
      throw e;
    }
  }

  /**
   * Adds our finalizer and merges `status` into the Machine only if the API server holds exactly
   * `payload` (a JSON patch whose first op tests the whole object): an event's unauthenticated
   * payload is thereby confirmed by the write itself, and the returned object is the stored one.
   * 'stale' when the stored Machine differs from the payload in anything, or is gone — the
   * caller falls back to reading it.
   */
  async claimIfUnchanged(payload: Machine, status: Record<string, unknown>): Promise<Machine | 'stale'> {
    try {
      return await this.kube.patch<Machine>(objectPath(MACHINE, payload.metadata.namespace, payload.metadata.name), 'json', [
        { op: 'test', path: '', value: payload },
        { op: 'add', path: '/metadata/finalizers', value: [...(payload.metadata.finalizers ?? []), MACHINE_FINALIZER] },
        { op: 'add', path: '/status', value: applyMergePatch(payload.status ?? {}, status) },
      ]);
    } catch (e) {
      // 422: the test failed (the object changed or the payload is not what is stored); 404:
      // gone; 413: a payload padded beyond what the API server accepts is not the stored one.
      if (e instanceof ApiError && [404, 409, 413, 422].includes(e.status)) return 'stale';
      throw e;
    }
  }

  /** Removes our finalizer with a JSON patch guarded by `test`, so a concurrent edit is not lost. */
  async removeFinalizer(m: Machine): Promise<void> {
    const list = m.metadata.finalizers ?? [];
    const i = list.indexOf(MACHINE_FINALIZER);
    if (i < 0) return;
    try {
      await this.kube.patch(objectPath(MACHINE, m.metadata.namespace, m.metadata.name), 'json', [
        { op: 'test', path: '/metadata/uid', value: m.metadata.uid },
        { op: 'test', path: `/metadata/finalizers/${i}`, value: MACHINE_FINALIZER },
        { op: 'remove', path: `/metadata/finalizers/${i}` },
      ]);
    } catch (e) {
      // 404: the Machine is already gone. 422 from a failed `test`: the list moved; the retry re-reads.
      if (e instanceof ApiError && e.status === 404) return;
      throw e;
    }
  }

  /**
   * Merge-patches `status` (null clears a field). With `resourceVersion` the write only lands
   * on that version (409 otherwise) — used to claim follow-up emissions exactly once.
   */
  patchStatus(m: Machine, status: Record<string, unknown>, resourceVersion?: string, spec?: Record<string, unknown>): Promise<Machine> {
    const metadata: Record<string, unknown> = { uid: m.metadata.uid };
    if (resourceVersion) metadata.resourceVersion = resourceVersion;
    return this.kube.patch<Machine>(objectPath(MACHINE, m.metadata.namespace, m.metadata.name), 'merge', {
      metadata,
      status,
      ...(spec ? { spec } : {}),
    });
  }

  /**
   * Records an Event on the Machine (what `kubectl describe machine` shows) without waiting for
   * it, as client-go's EventRecorder does: Events are best-effort diagnostics and must not add
   * latency or fail a reconcile.
   */
  recordEventAsync(m: Machine, type: 'Normal' | 'Warning', reason: string, message: string, onError: (e: Error) => void = () => {}): void {
    recordEvent(this.kube, m, type, reason, message, this.component, onError);
  }
}
