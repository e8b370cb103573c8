/**
 * DataVolume events → import progress on the Machine: the `ImageImported` condition (True once
 * the import succeeded, False once CDI's failure signal has persisted past the configured
 * restart count or timeout, with the Machine's error, owned by this function), and the
 * follow-ups `machine.image.imported` / `machine.image.failed`. Level-triggered: the DataVolume
 * and the Machine are re-read; the event is only a key.
 */
import { buildFollowUp, FollowUpType } from '../../events/followup.js';
import { classifyDataVolume, DEFAULT_DV_POLICY, type DataVolumeLike, type DvClassification } from '../../shared/status/datavolume.js';
import { emitOnce } from '../../shared/machine/emissions.js';
import { ConditionType, conditionPatch, conditionsPatch, conditionTrue, ownsError } from '../../shared/machine/conditions.js';
import { observationReconciler, observeInfraObject } from '../../shared/machine/infra-observation.js';
import { machineRef, type Machine } from '../../shared/machine/types.js';
import { DATA_VOLUME, objectPath } from '../../shared/kube/paths.js';
import { dataVolumeNames } from '../../shared/vm/data-volumes.js';
import type { MachineConfig } from '../../shared/providerspec/types.js';
import { ErrorReason } from '../../shared/constants.js';
import { redactUrlsIn } from '../../shared/preflight/ssrf.js';
import { done, wait } from '../../shared/runtime/outcome.js';
import type { InfraDeps } from '../../shared/runtime/infra-deps.js';
import { goldenOfClone, isGolden, reconcileGolden, tellGoldenFailure } from './golden.js';

export const FUNCTION_NAME = 'datavolume';
/** Prefix of our error messages about imports, so success can clear exactly those. */
const IMPORT_ERROR_PREFIX = 'DataVolume ';

function policyFrom(env: NodeJS.ProcessEnv, now: number) {
  const restarts = Number(env.DV_MAX_RESTARTS);
  const timeoutS = Number(env.DV_IMPORT_TIMEOUT_SECONDS);
  return {
    maxRestarts: Number.isFinite(restarts) && restarts > 0 ? restarts : DEFAULT_DV_POLICY.maxRestarts,
    importTimeoutMs: Number.isFinite(timeoutS) && timeoutS > 0 ? timeoutS * 1000 : DEFAULT_DV_POLICY.importTimeoutMs,
    now,
  };
}

/** The DataVolume `key` names when it is a golden image (read with the function's own identity). */
async function goldenDataVolume(deps: InfraDeps, key: { namespace: string; name: string }) {
  const dv = await deps.infra.get<DataVolumeLike & { metadata: { name: string; labels?: Record<string, string> } }>(
    objectPath(DATA_VOLUME, key.namespace, key.name),
  );
  return dv && isGolden(dv) ? dv : undefined;
}

/** A Machine's DataVolumes, named as the VM builder names them. */
const dataVolumeNamesOf = (m: Machine, config: MachineConfig): string[] => dataVolumeNames(m.metadata.name, config);

export function dataVolumeReconciler(deps: InfraDeps) {
  // DataVolume events, and resync's Machine-keyed ones: each DataVolume the Machine's status names.
  return observationReconciler(deps, DATA_VOLUME, dataVolumeNamesOf, async (key, log) => {
    // Nothing is recorded while a DataVolume is on its way (no terminal phase, no failure past
    // the policy): when the event's own copy says so, the reads are skipped — most events are
    // progress reports. Nothing is written from the copy; the change that matters (Succeeded, a
    // restart past the limit) is an event of its own, and resync's Machine-keyed re-announcement
    // (no copy) re-reads a DataVolume whose import stalled past the timeout.
    // The exception: a clone scheduled while its golden image is failing (below).
    let failedGolden: { dv: GoldenLike; c: DvClassification } | undefined;
    if (key.object && !key.known) {
      const hint = classifyDataVolume(key.object as DataVolumeLike, policyFrom(deps.env, deps.now()));
      if (hint.state !== 'succeeded' && hint.state !== 'failed') {
        failedGolden = await goldenFailedFor(deps, key.namespace, key.object as GoldenLike);
        if (!failedGolden) return done(`${hint.state} (the event's copy): ${hint.reason}`);
      }
    }
    // The DataVolume as the Machine's own credentials see it, in its infra namespace (shared/machine/infra-observation.ts).
    const o = await observeInfraObject<DataVolumeLike & { metadata: { labels?: Record<string, string> } }>(deps, key, DATA_VOLUME);
    if (!o.ok) {
      // A golden image (IMAGE_CACHE=on) has no Machine of its own: its clones' Machines hear of it.
      const golden = key.known ? undefined : await goldenDataVolume(deps, key);
      if (golden)
        return reconcileGolden(deps, key, golden, classifyDataVolume(golden, policyFrom(deps.env, deps.now())), IMPORT_ERROR_PREFIX, log);
      return done(o.note);
    }
    const { object: dv, machine: m } = o;
    const c = classifyDataVolume(dv, policyFrom(deps.env, deps.now()));
    const l = log.with({
      machine: `${m.metadata.namespace}/${m.metadata.name}`,
      dataVolume: `${key.namespace}/${key.name}`,
      state: c.state,
      reason: c.reason,
    });
    const ctx = { function: FUNCTION_NAME, traceparent: key.traceparent, overrides: deps.ceOverrides };
    const ref = machineRef(m);
    const dvRef = { namespace: key.namespace, name: key.name };
    if (c.state === 'succeeded') {
      const ps = m.status?.providerStatus;
      const clearError = ownsError(m, 'datavolume');
      const now = new Date(deps.now()).toISOString();
      // State order: the VM is recorded before its import. Its DataVolume exists only because
      // KubeVirt created it from the VM's templates, so seeing it is seeing the VM: recorded here
      // when the machine function's first reconcile has not written it (it saves that request).
      const vmSeen = conditionTrue(m, ConditionType.VirtualMachineCreated)
        ? []
        : [{ type: ConditionType.VirtualMachineCreated, status: 'True' as const, reason: 'Created', message: 'its DataVolume exists' }];
      const providerStatus: Record<string, unknown> = {
        ...conditionsPatch(m, [...vmSeen, { type: ConditionType.ImageImported, status: 'True', reason: 'Succeeded' }], now),
      };
      if (ps?.phase === 'Provisioning' || (ps?.phase === 'Failed' && (clearError || !m.status?.errorReason)))
        providerStatus.phase = 'ImageImported';
      if (clearError) providerStatus.errorOwner = null;
      const status: Record<string, unknown> = {};
      if (Object.keys(providerStatus).length) status.providerStatus = providerStatus;
      if (clearError) Object.assign(status, { errorReason: null, errorMessage: null });
      if (Object.keys(status).length) status.lastUpdated = now;
      const created = Date.parse(dv.metadata.creationTimestamp ?? '');
      const durationSeconds = Number.isFinite(created) ? Math.max(0, Math.round((deps.now() - created) / 100) / 10) : undefined;
      const r = await emitOnce(
        deps.machines,
        deps.sink,
        m,
        {
          type: FollowUpType.imageImported,
          key: dv.metadata.uid ?? key.name,
          event: () => buildFollowUp(FollowUpType.imageImported, { machine: ref, dataVolume: dvRef, durationSeconds }, ctx),
          after: FollowUpType.provisioning,
        },
        status,
      );
      l.info('image imported', { followUpSent: r.sent, followUpDeferred: r.deferred, durationSeconds });
      if (r.deferred) return wait('machine.image.imported waits for machine.provisioning to be sent');
      return done(r.sent ? 'imported' : 'unchanged');
    }
    if (c.state === 'failed') {
      // CDI's message may quote the image URL: no credentials in it, and bounded like ours.
      const cdiMessage = redactUrlsIn(c.message ?? '').slice(0, 900);
      const message = `DataVolume ${key.namespace}/${key.name} import failed (${c.cdiReason}, ${c.restartCount} restarts): ${cdiMessage}`;
      const now = new Date(deps.now()).toISOString();
      const condition = conditionPatch(
        m,
        { type: ConditionType.ImageImported, status: 'False', reason: c.cdiReason ?? c.reason, message: cdiMessage },
        now,
      );
      const unchanged =
        m.status?.errorReason === ErrorReason.CreateError &&
        m.status?.errorMessage === message &&
        m.status?.providerStatus?.errorOwner === 'datavolume' &&
        !condition.conditions;
      const status = unchanged
        ? {}
        : {
            errorReason: ErrorReason.CreateError,
            errorMessage: message,
            lastUpdated: now,
            providerStatus: { phase: 'Failed', errorOwner: 'datavolume', ...condition },
          };
      const r = await emitOnce(
        deps.machines,
        deps.sink,
        m,
        {
          type: FollowUpType.imageFailed,
          key: `${dv.metadata.uid ?? key.name}`,
          event: () =>
            buildFollowUp(
              FollowUpType.imageFailed,
              { machine: ref, dataVolume: dvRef, reason: c.cdiReason ?? c.reason, message: cdiMessage, restartCount: c.restartCount },
              ctx,
            ),
        },
        status,
      );
      if (r.sent)
        deps.machines.recordEventAsync(m, 'Warning', 'ImageImportFailed', message, (e) =>
          l.warn('recording an Event failed', { error: e.message }),
        );
      l.warn('image import failed', { followUpSent: r.sent, cdiReason: c.cdiReason, restartCount: c.restartCount });
      return done(r.sent ? 'image failed' : 'unchanged');
    }
    // A clone made after its golden had failed: the golden's failure, told to this Machine now.
    const g = c.state === 'pending' ? failedGolden : undefined;
    if (g && goldenOfClone(dv as GoldenLike) === g.dv.metadata.name) {
      const goldenRef = { namespace: key.namespace, name: g.dv.metadata.name, traceparent: key.traceparent };
      const told = await tellGoldenFailure(deps, goldenRef, g.dv, g.c, key.name, m, IMPORT_ERROR_PREFIX, l);
      return done(told ? 'waits on a failed golden image: told' : 'waits on a failed golden image: unchanged');
    }
    return done(`${c.state}: ${c.reason}`);
  });
}

type GoldenLike = DataVolumeLike & { metadata: { name: string; uid?: string; labels?: Record<string, string> } };

/**
 * For the copy of a clone DataVolume CDI has just scheduled (`CloneScheduled`: it waits for its
 * source): its golden image, when that has failed. One read (the golden, with the function's
 * own identity, as for the golden's own events) per clone, only at that phase.
 */
async function goldenFailedFor(
  deps: InfraDeps,
  namespace: string,
  copy: GoldenLike,
): Promise<{ dv: GoldenLike; c: DvClassification } | undefined> {
  const name = goldenOfClone(copy);
  if (!name || copy.status?.phase !== 'CloneScheduled') return undefined;
  const golden = await goldenDataVolume(deps, { namespace, name });
  if (!golden) return undefined;
  const c = classifyDataVolume(golden, policyFrom(deps.env, deps.now()));
  return c.state === 'failed' ? { dv: golden, c } : undefined;
}
