/**
 * A golden image DataVolume (IMAGE_CACHE=on) belongs to no Machine: its failure is reported on
 * every Machine whose disk clones it. Those clones stay `CloneScheduled` while the golden fails
 * (CDI holds a clone until its source is populated), so without this no Machine would learn why.
 *
 * Level-triggered: the golden's event (or the resync's re-announcement of it) is a key; the
 * golden, its clones (by the golden label the machine function puts on them) and their Machines
 * are re-read. The error is written as the datavolume function's own (errorOwner), so a clone
 * that later succeeds (the golden was fixed) clears it the same way.
 */
import { buildFollowUp, FollowUpType } from '../../events/followup.js';
import { LABEL_GOLDEN } from '../../shared/image/golden.js';
import { listByLabel } from '../../shared/infra/apply.js';
import { DATA_VOLUME } from '../../shared/kube/paths.js';
import { emitOnce } from '../../shared/machine/emissions.js';
import { owningMachine } from '../../shared/machine/owner-lookup.js';
import { machineRef, type Machine } from '../../shared/machine/types.js';
import { ErrorReason } from '../../shared/constants.js';
import { redactUrlsIn } from '../../shared/preflight/ssrf.js';
import { done, type Outcome } from '../../shared/runtime/outcome.js';
import type { InfraDeps } from '../../shared/runtime/infra-deps.js';
import type { Logger } from '../../shared/runtime/log.js';
import type { DvClassification } from '../../shared/status/datavolume.js';

interface Labelled {
  metadata: { name: string; namespace?: string; uid?: string; labels?: Record<string, string> };
}

/** The golden DataVolume itself (not a clone of it): its golden label names itself. */
export const isGolden = (dv: Labelled): boolean => dv.metadata.labels?.[LABEL_GOLDEN] === dv.metadata.name;

/**
 * Reports a failed golden import on the Machine of every clone; anything else about a golden is
 * its clones' business (they succeed, and report, once it has).
 */
export async function reconcileGolden(
  deps: InfraDeps,
  key: { namespace: string; name: string; traceparent?: string },
  dv: Labelled,
  c: DvClassification,
  importErrorPrefix: string,
  log: Logger,
): Promise<Outcome> {
  if (c.state !== 'failed') return done(`golden image ${c.state}: ${c.reason}`);
  const clones = (await listByLabel<Labelled>(deps.infra, DATA_VOLUME, key.namespace, `${LABEL_GOLDEN}=${key.name}`)).filter(
    (d) => d.metadata.name !== key.name,
  );
  let reported = 0;
  for (const clone of clones) {
    const m = await owningMachine(deps.machines, clone.metadata.labels);
    if (m && (await tellGoldenFailure(deps, key, dv, c, clone.metadata.name, m, importErrorPrefix, log))) reported++;
  }
  log.warn('golden image import failed', { golden: `${key.namespace}/${key.name}`, clones: clones.length, reported });
  return done(`golden image failed: ${clones.length} clones, ${reported} Machines told`);
}

/** The golden a clone DataVolume waits on: its golden label, when it is not the golden itself. */
export function goldenOfClone(dv: Labelled): string | undefined {
  const g = dv.metadata.labels?.[LABEL_GOLDEN];
  return g && g !== dv.metadata.name ? g : undefined;
}

/**
 * The golden `golden` failed and Machine `m`'s disk `cloneName` clones it: the Machine's error
 * (owned by this function), `machine.image.failed` once per golden and an Event. Used for every
 * clone when the golden's own change says it failed, and for one clone when that clone appears
 * (is scheduled) after the golden had failed — otherwise its Machine would hear of it only with
 * the golden's next restart or the next resync. Returns whether the follow-up was sent now.
 */
export async function tellGoldenFailure(
  deps: InfraDeps,
  goldenRef: { namespace: string; name: string; traceparent?: string },
  golden: Labelled,
  c: DvClassification,
  cloneName: string,
  m: Machine,
  importErrorPrefix: string,
  log: Logger,
): Promise<boolean> {
  if (m.metadata.deletionTimestamp) return false;
  const cdiMessage = redactUrlsIn(c.message ?? '').slice(0, 800);
  const ctx = { function: 'datavolume', traceparent: goldenRef.traceparent, overrides: deps.ceOverrides };
  const message =
    `${importErrorPrefix}${goldenRef.namespace}/${cloneName} waits on golden image ${goldenRef.namespace}/${goldenRef.name}, ` +
    `whose import failed (${c.cdiReason}, ${c.restartCount} restarts): ${cdiMessage}`;
  const unchanged =
    m.status?.errorReason === ErrorReason.CreateError &&
    m.status?.errorMessage === message &&
    m.status?.providerStatus?.errorOwner === 'datavolume';
  // The datavolume function owns this error (errorOwner): its clone's success clears it.
  const status = unchanged
    ? {}
    : {
        errorReason: ErrorReason.CreateError,
        errorMessage: message,
        lastUpdated: new Date(deps.now()).toISOString(),
        providerStatus: { phase: 'Failed', errorOwner: 'datavolume' },
      };
  const ref = machineRef(m);
  const r = await emitOnce(
    deps.machines,
    deps.sink,
    m,
    {
      type: FollowUpType.imageFailed,
      // Once per golden for each Machine: a later failure of its own DataVolume has its own key.
      key: golden.metadata.uid ?? goldenRef.name,
      event: () =>
        buildFollowUp(
          FollowUpType.imageFailed,
          {
            machine: ref,
            dataVolume: { namespace: goldenRef.namespace, name: goldenRef.name },
            reason: c.cdiReason ?? c.reason,
            message: cdiMessage,
            restartCount: c.restartCount,
          },
          ctx,
        ),
    },
    status,
  );
  if (r.sent)
    deps.machines.recordEventAsync(m, 'Warning', 'ImageImportFailed', message, (e) =>
      log.warn('recording an Event failed', { error: e.message }),
    );
  return r.sent;
}
