/**
 * A valid, live Machine: make its VirtualMachine (with the DataVolume templates) and userdata
 * Secret exist on the infra cluster, exactly as `render` shows them, and say so on the Machine.
 *
 * Request budget for a new Machine (measured by `npm run bench`): one Machine patch (finalizer +
 * status + emission claim, with the event payload's resourceVersion as precondition, so it is
 * also the level-triggered re-read), one GET per DataVolume name (collision check: KubeVirt
 * would otherwise adopt a foreign DataVolume), VM create, Secret create — plus the Normal Event,
 * sent without waiting as client-go's recorder does. With IMAGE_CACHE=on, the golden image
 * DataVolume's create once per image and process (golden-image.ts), not per Machine. The
 * `VirtualMachineCreated` condition is not a write of its own on this path: the datavolume
 * function records it when it sees the VM's first DataVolume, and so does any later reconcile.
 */
import { buildVirtualMachine } from '../../shared/vm/build-vm.js';
import { buildUserdataSecret } from '../../shared/vm/userdata.js';
import { toDataVolumeSource } from '../../shared/image/source.js';
import { applyOwned, type KubeObject } from '../../shared/infra/apply.js';
import { isOwnedBy, ownershipLabels, withOwnership } from '../../shared/infra/ownership.js';
import { accessModeFromStorageProfile, StorageConfigError, topologyLabelsFromStorageClass } from '../../shared/infra/storage.js';
import { DATA_VOLUME, SECRET, VIRTUAL_MACHINE, objectPath } from '../../shared/kube/paths.js';
import { resolveUserdata } from '../../shared/machine/userdata-source.js';
import { claimRecord, emitOnce, markSendFailed } from '../../shared/machine/emissions.js';
import { ConditionType, conditionPatch, ownsError } from '../../shared/machine/conditions.js';
import { machineRef, type Machine } from '../../shared/machine/types.js';
import { buildFollowUp, FollowUpType } from '../../events/followup.js';
import { SinkError } from '../../shared/runtime/sink.js';
import { ErrorReason } from '../../shared/constants.js';
import { done, wait, type Outcome } from '../../shared/runtime/outcome.js';
import { ApiError, isTransient, type KubeClient } from '../../shared/kube/rest.js';
import { redactUrl } from '../../shared/preflight/ssrf.js';
import type { MachineConfig } from '../../shared/providerspec/types.js';
import { followUpCtx, infraNamespace, type ReconcileContext } from './context.js';
import { cloneFromGolden, describeSource, isCacheable } from '../../shared/image/golden.js';
import type { VirtualMachine } from '../../shared/vm/types.js';
import { goldenOfVm, imageCacheEnabled, planGolden } from '../../shared/image/golden-plan.js';
import { ensureGolden } from './golden-image.js';
import { imageFacts } from './preflight.js';
import { reportFailure } from './report.js';

export const userdataSecretName = (machineName: string): string => `userdata-${machineName}`;

/**
 * The status written together with the finalizer on a Machine's first reconcile, including
 * the claim of its `machine.provisioning` emission (one per Machine: keyed by its UID).
 */
export function firstProvisioningStatus(ctx: ReconcileContext, m: Machine, config: MachineConfig): Record<string, unknown> {
  return {
    errorReason: null,
    errorMessage: null,
    lastUpdated: new Date().toISOString(),
    providerStatus: {
      errorOwner: null,
      phase: 'Provisioning',
      infraNamespace: infraNamespace(config.namespace, ctx.env),
      virtualMachine: { name: m.metadata.name },
      userdataSecret: userdataSecretName(m.metadata.name),
      emitted: { [FollowUpType.provisioning]: claimRecord(m.metadata.uid) },
      // What the preflight waited for is over.
      waiting: null,
    },
  };
}

/**
 * `claimed`: this reconcile just wrote the finalizer and claimed the provisioning emission (the
 * Machine's first reconcile) — on success only the follow-up remains to be sent; on failure the
 * claim is released so the redelivered event emits it.
 */
export interface ProvisionInput {
  config: MachineConfig;
  deprecations: string[];
  claimed: boolean;
  /** The DataVolume collision check, when the caller already started it. */
  precheck?: Promise<string | undefined>;
}

export async function provision(ctx: ReconcileContext, m: Machine, input: ProvisionInput): Promise<Outcome> {
  try {
    return await provisionOnce(ctx, m, input);
  } catch (e) {
    const refusal = infraRefusal(e);
    if (refusal) return failed(ctx, m, input.claimed, refusal.reason, refusal.message);
    // A failed send was marked as such; anything else failed before the event: nothing was sent.
    if (input.claimed && !(e instanceof SinkError)) await releaseClaim(ctx, m);
    throw e;
  }
}

/**
 * A permanent answer of the infra API server to one of our writes (a retry of the same spec
 * would get it again): 403 names the missing permission, 422/400 the invalid field, 413 the
 * size, 404 the missing namespace. Reported on the Machine instead of retried silently.
 */
export function infraRefusal(e: unknown): { reason: string; message: string } | undefined {
  if (!(e instanceof ApiError) || isTransient(e) || e.path.startsWith('/apis/cluster.k8s.io/')) return undefined;
  if (![400, 403, 404, 413, 422].includes(e.status)) return undefined;
  const reason = e.status === 403 || e.status === 404 ? ErrorReason.CreateError : ErrorReason.InvalidConfiguration;
  const hint =
    e.status === 403
      ? " (grant the function's infra identity that permission: knative/infra RBAC, or the spec's kubeconfig user)"
      : e.status === 404
        ? ' (create the infra namespace, or name an existing one)'
        : '';
  return { reason, message: `the API server refused ${e.method} ${e.path}: ${e.status} ${e.reason}: ${e.apiMessage}${hint}` };
}

/** Releases the provisioning claim; returns the Machine as it is now (for later preconditions). */
async function releaseClaim(ctx: ReconcileContext, m: Machine): Promise<Machine> {
  try {
    return await ctx.machines.patchStatus(m, { providerStatus: { emitted: { [FollowUpType.provisioning]: null } } });
  } catch {
    return m;
  }
}

// Moved to shared/ (the datavolume function finds a Machine's DataVolumes by the same names).
export { dataVolumeNames } from '../../shared/vm/data-volumes.js';

/** The first of `names` that exists and is not ours, read in parallel. */
export async function foreignDataVolume(
  infra: KubeClient,
  namespace: string,
  names: string[],
  machineUid: string,
): Promise<string | undefined> {
  const found = await Promise.all(names.map((n) => infra.get<KubeObject>(objectPath(DATA_VOLUME, namespace, n))));
  return names.find((_n, i) => found[i] && !isOwnedBy(found[i]!, machineUid));
}

async function provisionOnce(
  ctx: ReconcileContext,
  m: Machine,
  { config, deprecations, claimed, precheck }: ProvisionInput,
): Promise<Outcome> {
  const infra = ctx.infraFor(config.kubeconfig);
  const namespace = infraNamespace(config.namespace, ctx.env);
  const ref = machineRef(m);

  const ud = await resolveUserdata(ctx.machines.kube, m, config);
  if (ud.kind === 'not-ready') {
    if (claimed) await releaseClaim(ctx, m);
    return wait(ud.message);
  }

  let primaryAccessMode: string;
  try {
    primaryAccessMode =
      config.vm.primaryDisk.storageAccessType ?? (await accessModeFromStorageProfile(infra, config.vm.primaryDisk.storageClassName));
  } catch (e) {
    if (e instanceof StorageConfigError)
      return failed(ctx, m, claimed, ErrorReason.InvalidConfiguration, `Failed to parse MachineSpec, due to ${e.message}`);
    throw e;
  }
  const topologyLabels = await topologyLabelsFromStorageClass(infra, config.vm.primaryDisk.storageClassName);

  const secretName = userdataSecretName(m.metadata.name);
  const owned = ownershipLabels(ref, config.clusterName);
  const vm = withOwnership(
    buildVirtualMachine({
      machine: {
        name: m.metadata.name,
        namespace: m.metadata.namespace,
        uid: m.metadata.uid,
        labels: m.metadata.labels,
        annotations: m.metadata.annotations,
      },
      config,
      namespace,
      machineDeploymentName: ud.machineDeploymentName,
      userdataSecretName: secretName,
      userdata: ud.userdata,
      primaryAccessMode,
      topologyLabels,
    }),
    owned,
  );
  const dvNames = (vm.spec.dataVolumeTemplates ?? []).map((t) => t.metadata.name);
  const ps = m.status?.providerStatus;
  // Created by an earlier reconcile (not just claimed in this one): go straight to the read.
  const existedBefore = !claimed && ps?.virtualMachine?.name === vm.metadata.name;

  // A foreign DataVolume of a template's name would be adopted by KubeVirt: refuse first.
  if (!existedBefore) {
    const foreign = await (precheck ?? foreignDataVolume(infra, namespace, dvNames, ref.uid));
    if (foreign) return collision(ctx, m, claimed, 'DataVolume', namespace, foreign);
  }

  // The image cache: the disks clone a golden DataVolume instead of downloading the image.
  const cache = await useGoldenImage(ctx, infra, config, namespace, primaryAccessMode, vm, existedBefore);
  if (cache.kind === 'refused') return failed(ctx, m, claimed, ErrorReason.InvalidConfiguration, cache.message);
  if (cache.kind === 'wait') {
    if (claimed) await releaseClaim(ctx, m);
    return wait(cache.message);
  }
  if (cache.kind === 'foreign') return collision(ctx, m, claimed, 'DataVolume', namespace, cache.name);

  // A 422 here (KubeVirt's admission or the CRD schema refusing this VM) is reported on the
  // Machine by provision()'s infraRefusal, with the API's message.
  const vmRes = await applyOwned(infra, VIRTUAL_MACHINE, vm as unknown as KubeObject, ref.uid, existedBefore, cache.prefetched);
  if (vmRes.kind === 'collision') return collision(ctx, m, claimed, 'VirtualMachine', namespace, vm.metadata.name);
  const vmUid = vmRes.object.metadata.uid!;

  const secret = buildUserdataSecret({
    name: secretName,
    namespace,
    userdata: ud.userdata,
    labels: owned,
    owner: { name: vm.metadata.name, uid: vmUid },
  });
  const secRes = await applyOwned(
    infra,
    SECRET,
    secret as unknown as KubeObject,
    ref.uid,
    existedBefore && ps?.userdataSecret === secretName,
  );
  if (secRes.kind === 'collision') return collision(ctx, m, claimed, 'Secret', namespace, secretName);

  const image = toDataVolumeSource(config.vm.primaryDisk.image, namespace);
  const imageKind = 'http' in image ? 'http' : 'registry' in image ? 'registry' : 'pvc';
  // User info and query strings of URLs carry credentials: the follow-up names the URL without them.
  const imageRef =
    'http' in image ? redactUrl(image.http.url) : 'registry' in image ? describeSource(image) : `${image.pvc.namespace}/${image.pvc.name}`;
  const event = () =>
    buildFollowUp(
      FollowUpType.provisioning,
      {
        machine: ref,
        virtualMachine: { namespace, name: vm.metadata.name, uid: vmUid },
        dataVolumes: dvNames,
        image: { kind: imageKind, reference: imageRef },
        deprecations,
      },
      followUpCtx(ctx),
    );

  // The VM exists: say so on the Machine. Not a write of its own on the first reconcile (it
  // would be a fifth request per Machine): the datavolume function records it on seeing the VM's
  // first DataVolume, and every later reconcile of this function with the rest of its status.
  const vmCreated = conditionPatch(
    m,
    { type: ConditionType.VirtualMachineCreated, status: 'True', reason: 'Created' },
    new Date().toISOString(),
  );
  let sent: boolean;
  if (claimed) {
    try {
      await ctx.sink.send(event());
    } catch (e) {
      // Claimed in the first write: mark it failed (later follow-ups wait for it; the retry sends it).
      await markSendFailed(ctx.machines, m, FollowUpType.provisioning);
      throw e;
    }
    sent = true;
  } else {
    const providerStatus = {
      infraNamespace: namespace,
      virtualMachine: { name: vm.metadata.name },
      userdataSecret: secretName,
      dataVolumes: dvNames,
    };
    // A successful reconcile clears the errors this function reported (errorOwner); import and
    // VMI failures belong to the datavolume and vmi functions, which clear them on recovery.
    const ownError = ownsError(m, 'machine');
    const changed =
      ownError ||
      vmCreated.conditions !== undefined ||
      ps?.virtualMachine?.name !== vm.metadata.name ||
      ps?.infraNamespace !== namespace ||
      !ps?.phase ||
      (ps.phase === 'Failed' && ownError);
    const status = changed
      ? {
          ...(ownError ? { errorReason: null, errorMessage: null } : {}),
          lastUpdated: new Date().toISOString(),
          providerStatus: {
            ...providerStatus,
            ...vmCreated,
            ...(ownError ? { errorOwner: null } : {}),
            phase: ps?.phase && !(ps.phase === 'Failed' && ownError) ? ps.phase : 'Provisioning',
          },
        }
      : {};
    sent = (await emitOnce(ctx.machines, ctx.sink, m, { type: FollowUpType.provisioning, key: ref.uid, event }, status)).sent;
  }
  if (sent) {
    const onError = (e: Error) => ctx.log.warn('recording an Event failed', { error: e.message });
    ctx.machines.recordEventAsync(m, 'Normal', 'Created', 'Successfully created instance', onError);
    for (const d of deprecations) ctx.machines.recordEventAsync(m, 'Warning', 'DeprecatedField', d, onError);
  }
  ctx.log.info('machine provisioned', {
    vm: `${namespace}/${vm.metadata.name}`,
    vmUid,
    created: vmRes.created,
    userdata: ud.origin,
    followUpSent: sent,
  });
  return done(sent ? 'provisioning' : 'unchanged');
}

type CacheStep =
  /** Go on; `prefetched`: the VM as read (when the read was needed to know its golden). */
  | { kind: 'ok'; prefetched?: { object: KubeObject | undefined } }
  | { kind: 'refused'; message: string }
  | { kind: 'wait'; message: string }
  | { kind: 'foreign'; name: string };

/**
 * With IMAGE_CACHE on and an http/registry image: ensures the golden DataVolume and turns the
 * VM's templates (in place) into clones of it. A VM created earlier keeps the disks it was made
 * with — its golden, or its download when made without the cache — so the VM is read first.
 */
async function useGoldenImage(
  ctx: ReconcileContext,
  infra: KubeClient,
  config: MachineConfig,
  namespace: string,
  accessMode: string,
  vm: VirtualMachine,
  existedBefore: boolean,
): Promise<CacheStep> {
  if (!imageCacheEnabled(ctx.env) || !isCacheable(toDataVolumeSource(config.vm.primaryDisk.image, namespace))) return { kind: 'ok' };
  let prefetched: { object: KubeObject | undefined } | undefined;
  let golden: string | null;
  if (existedBefore) {
    prefetched = { object: await infra.get<KubeObject>(objectPath(VIRTUAL_MACHINE, namespace, vm.metadata.name)) };
  }
  if (prefetched?.object) {
    golden = goldenOfVm(prefetched.object as Parameters<typeof goldenOfVm>[0]);
  } else {
    // Remembered from the preflight of this burst; probed again only when that has expired.
    const image = await imageFacts(ctx, config);
    if (!image.ok)
      return image.permanent ? { kind: 'refused', message: `${image.reason}: ${image.message}` } : { kind: 'wait', message: image.message };
    const plan = planGolden(config, namespace, accessMode, image.facts);
    if (plan.kind === 'invalid') return { kind: 'refused', message: `DiskTooSmallForImage: ${plan.message}` };
    if (plan.kind === 'none') return { kind: 'ok', ...(prefetched ? { prefetched } : {}) };
    const ensured = await ensureGolden(infra, plan.dataVolume);
    if (ensured.kind === 'foreign') return { kind: 'foreign', name: plan.name };
    if (ensured.created) ctx.log.info('golden image created', { dataVolume: `${namespace}/${plan.name}` });
    golden = plan.name;
  }
  if (golden) vm.spec.dataVolumeTemplates = cloneFromGolden(vm.spec.dataVolumeTemplates, { namespace, name: golden });
  return { kind: 'ok', ...(prefetched ? { prefetched } : {}) };
}

async function failed(ctx: ReconcileContext, m: Machine, claimed: boolean, reason: string, message: string): Promise<Outcome> {
  return reportFailure(ctx, claimed ? await releaseClaim(ctx, m) : m, reason, message);
}

function collision(ctx: ReconcileContext, m: Machine, claimed: boolean, kind: string, namespace: string, name: string): Promise<Outcome> {
  const message =
    `${kind} ${namespace}/${name} already exists on the infra cluster and does not belong to Machine ` +
    `${m.metadata.namespace}/${m.metadata.name} (uid ${m.metadata.uid}); it was left untouched. ` +
    'VMs are named after their Machines: use one infra namespace per user cluster (machine-controller KubeVirt guide), or rename the Machine.';
  return failed(ctx, m, claimed, ErrorReason.NameCollision, message);
}
