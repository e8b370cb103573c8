/**
 * A valid, live Machine: make its VirtualMachine (with the DataVolume templates) and userdata
 * Secret exist on the infra cluster, exactly as `render` shows them, and say so on the Machine.
 *
 * Request budget for a new Machine (see the benchmark): finalizer patch (which is also the
 * re-read), one GET per DataVolume name (collision check: KubeVirt would otherwise adopt a
 * foreign DataVolume), VM apply, Secret apply, one status patch that also claims the
 * `machine.provisioning` emission, and the Normal Event.
 */
import { buildVirtualMachine } from '../../shared/vm/build-vm.js';
import { buildUserdataSecret } from '../../shared/vm/userdata.js';
import { toDataVolumeSource } from '../../shared/image/source.js';
import { applyOwned, type KubeObject } from '../../shared/infra/apply.js';
import { isOwnedBy, ownershipLabels, withOwnership } from '../../shared/infra/ownership.js';
import { accessModeFromStorageProfile, StorageConfigError, topologyLabelsFromStorageClass } from '../../shared/infra/storage.js';
import { DATA_VOLUME, SECRET, VIRTUAL_MACHINE, objectPath } from '../../shared/kube/paths.js';
import { resolveUserdata } from '../../shared/machine/userdata-source.js';
import { emitOnce } from '../../shared/machine/emissions.js';
import { machineRef, type Machine } from '../../shared/machine/types.js';
import { buildFollowUp, FollowUpType } from '../../events/followup.js';
import { ErrorReason } from '../../shared/constants.js';
import { done, wait, type Outcome } from '../../shared/runtime/outcome.js';
import type { MachineConfig } from '../../shared/spec/types.js';
import { followUpCtx, infraNamespace, type ReconcileContext } from './context.js';
import { reportFailure } from './report.js';

export const userdataSecretName = (machineName: string): string => `userdata-${machineName}`;

export async function provision(ctx: ReconcileContext, m: Machine, config: MachineConfig, deprecations: string[]): Promise<Outcome> {
  const infra = ctx.infraFor(config.kubeconfig);
  const namespace = infraNamespace(config.namespace, ctx.env);
  const ref = machineRef(m);

  const ud = await resolveUserdata(ctx.machines.kube, m, config);
  if (ud.kind === 'not-ready') return wait(ud.message);

  let primaryAccessMode: string;
  try {
    primaryAccessMode =
      config.vm.primaryDisk.storageAccessType ?? (await accessModeFromStorageProfile(infra, config.vm.primaryDisk.storageClassName));
  } catch (e) {
    if (e instanceof StorageConfigError) return reportFailure(ctx, m, ErrorReason.InvalidConfiguration, `Failed to parse MachineSpec, due to ${e.message}`);
    throw e;
  }
  const topologyLabels = await topologyLabelsFromStorageClass(infra, config.vm.primaryDisk.storageClassName);

  const secretName = userdataSecretName(m.metadata.name);
  const owned = ownershipLabels(ref, config.clusterName);
  const vm = withOwnership(
    buildVirtualMachine({
      machine: { name: m.metadata.name, namespace: m.metadata.namespace, uid: m.metadata.uid, labels: m.metadata.labels, annotations: m.metadata.annotations },
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

  // A foreign DataVolume of a template's name would be adopted by KubeVirt: refuse first.
  for (const dv of dvNames) {
    const existing = await infra.get<KubeObject>(objectPath(DATA_VOLUME, namespace, dv));
    if (existing && !isOwnedBy(existing, ref.uid)) return collision(ctx, m, 'DataVolume', namespace, dv);
  }

  const known = m.status?.providerStatus?.virtualMachine;
  const vmRes = await applyOwned(infra, VIRTUAL_MACHINE, vm as unknown as KubeObject, ref.uid, known?.name === vm.metadata.name);
  if (vmRes.kind === 'collision') return collision(ctx, m, 'VirtualMachine', namespace, vm.metadata.name);
  const vmUid = vmRes.object.metadata.uid!;

  const secret = buildUserdataSecret({ name: secretName, namespace, userdata: ud.userdata, labels: owned, owner: { name: vm.metadata.name, uid: vmUid } });
  const secRes = await applyOwned(infra, SECRET, secret as unknown as KubeObject, ref.uid, m.status?.providerStatus?.userdataSecret === secretName);
  if (secRes.kind === 'collision') return collision(ctx, m, 'Secret', namespace, secretName);

  const image = toDataVolumeSource(config.vm.primaryDisk.image, namespace);
  const imageKind = 'http' in image ? 'http' : 'registry' in image ? 'registry' : 'pvc';
  const imageRef = 'http' in image ? image.http.url : 'registry' in image ? image.registry.url : `${image.pvc.namespace}/${image.pvc.name}`;

  const status: Record<string, unknown> = {};
  const ps = m.status?.providerStatus;
  const providerStatus = {
    infraNamespace: namespace,
    virtualMachine: { name: vm.metadata.name, uid: vmUid },
    userdataSecret: secretName,
    dataVolumes: dvNames,
    deprecations: deprecations.length ? deprecations : null,
  };
  const changed =
    m.status?.errorReason ||
    m.status?.errorMessage ||
    ps?.virtualMachine?.uid !== vmUid ||
    ps?.infraNamespace !== namespace ||
    ps?.phase === undefined ||
    ps?.phase === 'Failed';
  if (changed) {
    // A successful reconcile clears machine-controller's error fields.
    Object.assign(status, {
      errorReason: null,
      errorMessage: null,
      lastUpdated: new Date().toISOString(),
      providerStatus: { ...providerStatus, phase: ps?.phase && ps.phase !== 'Failed' ? ps.phase : 'Provisioning' },
    });
  }
  const res = await emitOnce(
    ctx.machines,
    ctx.sink,
    m,
    {
      type: FollowUpType.provisioning,
      key: vmUid,
      event: () =>
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
        ),
    },
    status,
  );
  if (res.sent) {
    await ctx.machines.recordEvent(m, 'Normal', 'Created', 'Successfully created instance');
    for (const d of deprecations) await ctx.machines.recordEvent(m, 'Warning', 'DeprecatedField', d);
  }
  ctx.log.info('machine provisioned', { vm: `${namespace}/${vm.metadata.name}`, vmUid, userdata: ud.origin, followUpSent: res.sent });
  return done(res.sent ? 'provisioning' : 'unchanged');
}

function collision(ctx: ReconcileContext, m: Machine, kind: string, namespace: string, name: string): Promise<Outcome> {
  const message =
    `${kind} ${namespace}/${name} already exists on the infra cluster and does not belong to Machine ` +
    `${m.metadata.namespace}/${m.metadata.name} (uid ${m.metadata.uid}); it was left untouched. ` +
    'VMs are named after their Machines: use one infra namespace per user cluster (machine-controller KubeVirt guide), or rename the Machine.';
  return reportFailure(ctx, m, ErrorReason.NameCollision, message);
}
