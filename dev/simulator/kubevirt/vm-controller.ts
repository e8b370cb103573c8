/**
 * virt-controller's VirtualMachine controller, simulated (pkg/virt-controller/watch/vm/vm.go):
 * create the dataVolumeTemplates' DataVolumes, start/stop the VMI by run strategy once the
 * DataVolumes are ready, and write the VM status through /status.
 *
 * Deleting: a VM with a deletionTimestamp has its VMI deleted (virt-controller stops it); a
 * VM that is gone has the VMI and DataVolumes it controlled (by ownerReference uid) deleted,
 * in case no kube-controller-manager garbage collector runs.
 */
import { collectionPath, DATA_VOLUME, objectPath, VIRTUAL_MACHINE, VIRTUAL_MACHINE_INSTANCE } from '../../../shared/kube/paths.js';
import type { Lifetime } from '../lifetime.js';
import { isNotFound, type KubeApi } from '../kube/api.js';
import { keyOf, type Informer } from '../kube/informer.js';
import { createObject, deleteObject, GoneError, patchObject, withoutNulls, type JsonPatchOp, type Writer } from '../kube/writes.js';
import type { StatsRecorder } from '../stats.js';
import { nowTimestamp } from '../time.js';
import { WorkQueue } from '../work-queue.js';
import { runStrategyOf, startStopAction } from './run-strategy.js';
import { controllerOf, controllerRef, dataVolumeFromTemplate, isControlledBy, vmiFromVm } from './vm-manifests.js';
import { sameVmStatus, vmStatus, type SyncError } from './vm-status.js';
import { dataVolumeReady } from './volumes.js';

const FIELD_MANAGER = 'virt-controller';

export interface VmControllerOptions {
  adoptOrphanDataVolumes: boolean;
  collectGarbage: boolean;
}

export class VmController {
  private readonly queue: WorkQueue;
  private readonly writer: Writer;

  constructor(
    private readonly vms: Informer,
    private readonly vmis: Informer,
    private readonly dvs: Informer,
    api: KubeApi,
    private readonly life: Lifetime,
    private readonly opts: VmControllerOptions,
    private readonly stats: StatsRecorder,
    private readonly log: (line: string) => void,
  ) {
    this.writer = { api, life, stats };
    this.queue = new WorkQueue(
      'vm',
      (k) => this.reconcile(k),
      life,
      (k, e) => {
        stats.inc('reconcileErrors');
        log(`VirtualMachine ${k}: ${e instanceof Error ? e.message : String(e)}`);
      },
    );
    vms.on((type, vm) => {
      if (type === 'DELETED' && opts.collectGarbage) {
        life.run(`collect ${vm.metadata.name}`, this.collect(vm.metadata.namespace, vm.metadata.uid), (e) => log(String(e)));
      }
      this.queue.add(keyOf(vm.metadata.namespace, vm.metadata.name));
    });
    vmis.on((_t, vmi) => this.queue.add(keyOf(vmi.metadata.namespace, vmi.metadata.name)));
    dvs.on((_t, dv) => {
      const ns = dv.metadata.namespace;
      const owner = controllerOf(dv);
      if (owner?.kind === 'VirtualMachine') this.queue.add(keyOf(ns, owner.name));
      for (const vm of vms.list(ns)) {
        const named = (vm.spec?.dataVolumeTemplates ?? []).some((t: any) => t.metadata?.name === dv.metadata.name);
        const used = (vm.spec?.template?.spec?.volumes ?? []).some((v: any) => v.dataVolume?.name === dv.metadata.name);
        if (named || used) this.queue.add(keyOf(ns, vm.metadata.name));
      }
    });
  }

  /** Starts reconciling (after the caches' first sync). */
  start(): void {
    this.queue.start();
    if (this.opts.collectGarbage) this.life.run('sweep', this.sweep(), (e) => this.log(String(e)));
  }

  /**
   * VMIs and DataVolumes whose controlling VM was deleted while no simulator ran: confirmed
   * gone by a live GET (as the garbage collector does), then collected.
   */
  private async sweep(): Promise<void> {
    const owners = new Map<string, { namespace: string; name: string }>();
    for (const o of [...this.vmis.list(), ...this.dvs.list()]) {
      const ref = controllerOf(o);
      if (ref?.kind === 'VirtualMachine' && !this.vms.list(o.metadata.namespace).some((vm) => vm.metadata.uid === ref.uid)) {
        owners.set(ref.uid, { namespace: o.metadata.namespace, name: ref.name });
      }
    }
    for (const [uid, { namespace, name }] of owners) {
      const live = await this.writer.api.request('GET', objectPath(VIRTUAL_MACHINE, namespace, name)).catch((e) => {
        if (isNotFound(e)) return undefined;
        throw e;
      });
      if (!live || live.metadata?.uid !== uid) await this.collect(namespace, uid);
    }
  }

  private async reconcile(key: string): Promise<void> {
    const [ns, name] = key.split('/') as [string, string];
    const vm = this.vms.get(ns, name);
    if (!vm) return;
    const rs = runStrategyOf(vm);
    if (!rs.ok) {
      // virt-controller returns this error without touching the status; so do we.
      this.log(`VirtualMachine ${key}: ${rs.error}`);
      return;
    }
    let syncError: SyncError | undefined;
    const vmi = this.ownVmi(vm);
    if (vm.metadata.deletionTimestamp) {
      if (vmi && !vmi.metadata.deletionTimestamp) await this.deleteVmi(vmi);
    } else {
      const dv = await this.ensureDataVolumes(vm);
      if (dv.error) {
        syncError = { reason: 'FailedCreate', message: `Error encountered while creating DataVolumes: ${dv.error}` };
      } else if (dv.ready || rs.strategy === 'Halted') {
        syncError = await this.startStop(vm, vmi, rs.strategy);
      }
    }
    await this.writeStatus(vm, rs.strategy, syncError);
  }

  /** The VMI with the VM's name, unless another controller owns it (virt-controller would not claim it). */
  private ownVmi(vm: any): any | undefined {
    const vmi = this.vmis.get(vm.metadata.namespace, vm.metadata.name);
    const owner = controllerOf(vmi);
    return vmi && (!owner || owner.uid === vm.metadata.uid) ? vmi : undefined;
  }

  /** handleDataVolumes: creates missing DataVolumes, adopts orphans; ready when all are. */
  private async ensureDataVolumes(vm: any): Promise<{ ready: boolean; error?: string }> {
    let ready = true;
    for (const template of vm.spec?.dataVolumeTemplates ?? []) {
      const dvName = template?.metadata?.name;
      if (!dvName) continue;
      const dv = this.dvs.get(vm.metadata.namespace, dvName);
      if (!dv) {
        ready = false;
        try {
          const created = await createObject(
            this.writer,
            this.dvs,
            collectionPath(DATA_VOLUME, vm.metadata.namespace),
            dataVolumeFromTemplate(vm, template),
            FIELD_MANAGER,
          );
          if (created) {
            this.stats.inc('dataVolumesCreated');
            this.log(`created DataVolume ${vm.metadata.namespace}/${dvName} for VirtualMachine ${vm.metadata.name}`);
          }
        } catch (e) {
          return { ready: false, error: `failed to create DataVolume: ${e instanceof Error ? e.message : String(e)}` };
        }
        continue;
      }
      if (!controllerOf(dv) && this.opts.adoptOrphanDataVolumes && !dv.metadata.deletionTimestamp) await this.adopt(vm, dv);
      if (!dataVolumeReady(dv)) ready = false;
    }
    return { ready };
  }

  /** ClaimMatchedDataVolumes: an orphan with a template's name gets the VM as controller. */
  private async adopt(vm: any, dv: any): Promise<void> {
    const refs = [...(dv.metadata.ownerReferences ?? []), controllerRef(vm)];
    try {
      const path = objectPath(DATA_VOLUME, dv.metadata.namespace, dv.metadata.name);
      // Testing the current list too: someone else setting a controller meanwhile wins.
      const ops: JsonPatchOp[] = dv.metadata.ownerReferences
        ? [
            { op: 'test', path: '/metadata/ownerReferences', value: dv.metadata.ownerReferences },
            { op: 'replace', path: '/metadata/ownerReferences', value: refs },
          ]
        : [{ op: 'add', path: '/metadata/ownerReferences', value: refs }];
      await patchObject(this.writer, this.dvs, path, dv.metadata.uid, ops, FIELD_MANAGER);
      this.stats.inc('dataVolumesAdopted');
      this.log(`adopted orphan DataVolume ${dv.metadata.namespace}/${dv.metadata.name} for VirtualMachine ${vm.metadata.name}`);
    } catch (e) {
      if (!(e instanceof GoneError)) throw e;
    }
  }

  private async startStop(vm: any, vmi: any | undefined, strategy: string): Promise<SyncError | undefined> {
    switch (startStopAction(strategy, vmi)) {
      case 'create': {
        const created = await createObject(
          this.writer,
          this.vmis,
          collectionPath(VIRTUAL_MACHINE_INSTANCE, vm.metadata.namespace),
          vmiFromVm(vm),
          FIELD_MANAGER,
        );
        if (created) {
          this.stats.inc('vmisCreated');
          this.log(`created VirtualMachineInstance ${vm.metadata.namespace}/${vm.metadata.name}`);
        }
        return undefined;
      }
      case 'delete':
        await this.deleteVmi(vmi);
        return undefined;
      case 'unknown':
        return { reason: 'FailedCreate', message: `unknown runstrategy: ${strategy}` };
      default:
        return undefined;
    }
  }

  private async deleteVmi(vmi: any): Promise<void> {
    const path = objectPath(VIRTUAL_MACHINE_INSTANCE, vmi.metadata.namespace, vmi.metadata.name);
    if (await deleteObject(this.writer, path, vmi.metadata.uid))
      this.log(`deleted VirtualMachineInstance ${vmi.metadata.namespace}/${vmi.metadata.name}`);
  }

  private async writeStatus(vm: any, strategy: string, syncError: SyncError | undefined): Promise<void> {
    const fresh = this.vms.get(vm.metadata.namespace, vm.metadata.name);
    if (!fresh || fresh.metadata.uid !== vm.metadata.uid) return;
    const status = vmStatus({
      vm: fresh,
      vmi: this.ownVmi(fresh),
      dataVolume: (n) => this.dvs.get(fresh.metadata.namespace, n),
      strategy,
      syncError,
      now: nowTimestamp(),
    });
    if (sameVmStatus(fresh.status, status)) return;
    try {
      const path = objectPath(VIRTUAL_MACHINE, fresh.metadata.namespace, fresh.metadata.name, 'status');
      // Fields we do not manage (none are written on a plain apiserver) are kept.
      const value = withoutNulls({ ...(fresh.status ?? {}), ...status });
      await patchObject(this.writer, this.vms, path, fresh.metadata.uid, [{ op: 'add', path: '/status', value }], FIELD_MANAGER);
      this.stats.inc('statusWrites');
      if (fresh.status?.printableStatus !== status.printableStatus) {
        this.log(`VirtualMachine ${fresh.metadata.namespace}/${fresh.metadata.name}: ${String(status.printableStatus)}`);
      }
    } catch (e) {
      if (!(e instanceof GoneError)) throw e;
    }
  }

  /** Garbage collection for a deleted VM: only objects whose controller reference is that VM. */
  private async collect(namespace: string, uid: string): Promise<void> {
    for (const vmi of this.vmis.list(namespace).filter((o) => isControlledBy(o, uid))) {
      await this.deleteVmi(vmi);
    }
    for (const dv of this.dvs.list(namespace).filter((o) => isControlledBy(o, uid))) {
      const path = objectPath(DATA_VOLUME, namespace, dv.metadata.name);
      if (await deleteObject(this.writer, path, dv.metadata.uid))
        this.log(`deleted DataVolume ${namespace}/${dv.metadata.name} of deleted VirtualMachine`);
    }
  }
}
