/**
 * virt-controller's VMI controller and virt-handler, simulated: every VMI (created by a VM or
 * directly) goes '' → Pending → Scheduling → Scheduled → Running, one step per vmiStepMs,
 * waiting in Pending while a DataVolume it uses is not ready.
 *
 * The VMI CRD has no status subresource: status is merge-patched on the object itself.
 * No launcher Pod exists; no finalizers are added (a stopped simulator never blocks deletion).
 */
import { objectPath, VIRTUAL_MACHINE_INSTANCE } from '../../../shared/kube/paths.js';
import type { Lifetime } from '../lifetime.js';
import type { KubeApi } from '../kube/api.js';
import { keyOf, type Informer } from '../kube/informer.js';
import { GoneError, patchObject, pointerSegment, withoutNulls, type JsonPatchOp, type Writer } from '../kube/writes.js';
import { VMI_FAIL_ANNOTATION } from '../hooks.js';
import type { SimulatorTimings } from '../options.js';
import type { StatsRecorder } from '../stats.js';
import { nowTimestamp } from '../time.js';
import { WorkQueue } from '../work-queue.js';
import type { IpPool } from './ip-pool.js';
import { FINAL_PHASES, interfaceNames, sameVmiStatus, vmiStatus, type VmiStep } from './vmi-status.js';
import { dataVolumeNames, dataVolumeReady } from './volumes.js';

const NODE_LABEL = 'kubevirt.io/nodeName';

export class VmiController {
  private readonly queue: WorkQueue;
  private readonly lastStep = new Map<string, number>();
  private readonly writer: Writer;

  constructor(
    private readonly vmis: Informer,
    private readonly dvs: Informer,
    api: KubeApi,
    life: Lifetime,
    private readonly timings: SimulatorTimings,
    private readonly pool: IpPool,
    private readonly nodeName: string,
    private readonly stats: StatsRecorder,
    private readonly log: (line: string) => void,
  ) {
    this.writer = { api, life, stats };
    this.queue = new WorkQueue(
      'vmi',
      (k) => this.reconcile(k),
      life,
      (k, e) => {
        stats.inc('reconcileErrors');
        log(`VirtualMachineInstance ${k}: ${e instanceof Error ? e.message : String(e)}`);
      },
    );
    vmis.on((type, obj) => {
      const uid: string = obj.metadata.uid;
      if (type === 'DELETED') {
        pool.release(uid);
        this.lastStep.delete(uid);
      } else {
        // Addresses shown on existing VMIs stay theirs (also after a simulator restart).
        const ips = (obj.status?.interfaces ?? []).flatMap((i: any) => i.ipAddresses ?? (i.ipAddress ? [i.ipAddress] : []));
        if (ips.length > 0) pool.reserve(uid, ips);
      }
      this.queue.add(keyOf(obj.metadata.namespace, obj.metadata.name));
    });
    // A Pending VMI waits for its DataVolumes: re-check it when one changes.
    dvs.on((_type, dv) => {
      for (const vmi of vmis.list(dv.metadata.namespace)) {
        const uses = (vmi.spec?.volumes ?? []).some((v: any) => v.dataVolume?.name === dv.metadata.name);
        if (uses) this.queue.add(keyOf(vmi.metadata.namespace, vmi.metadata.name));
      }
    });
  }

  /** Starts reconciling (after the caches' first sync). */
  start(): void {
    this.queue.start();
  }

  private async reconcile(key: string): Promise<void> {
    const [ns, name] = key.split('/') as [string, string];
    const vmi = this.vmis.get(ns, name);
    if (!vmi || vmi.metadata.deletionTimestamp) return;
    const phase: string = vmi.status?.phase ?? '';
    if (FINAL_PHASES.has(phase) || phase === 'Running') return;

    const uid: string = vmi.metadata.uid;
    const wait = (this.lastStep.get(uid) ?? 0) + this.timings.vmiStepMs - Date.now();
    if (phase !== '' && wait > 0) return this.queue.addAfter(key, wait);
    const step: VmiStep = {
      phase: 'Pending',
      nodeName: this.nodeName,
      podUid: podUidFor(uid),
      dataVolumesReady: this.dataVolumesReady(vmi),
    };
    switch (phase) {
      case '':
        break;
      case 'Pending':
        // virt-controller creates the launcher pod only once every DataVolume is ready.
        if (step.dataVolumesReady !== false) step.phase = 'Scheduling';
        break;
      case 'Scheduling':
        step.phase = 'Scheduled';
        break;
      case 'Scheduled': {
        const failure = vmi.metadata.annotations?.[VMI_FAIL_ANNOTATION];
        if (failure !== undefined) {
          step.phase = 'Failed';
          step.failure = failure || 'GuestFailed';
        } else {
          step.phase = 'Running';
          step.ips = this.pool.allocate(uid, interfaceNames(vmi.spec).length);
        }
        break;
      }
      default:
        return; // Unknown, WaitingForSync: not ours to drive
    }
    const moved = await this.write(vmi, step);
    if (moved && step.phase === 'Running') this.stats.inc('vmisRunning');
    if (step.phase !== 'Running' && step.phase !== 'Failed') this.queue.addAfter(key, this.timings.vmiStepMs);
  }

  private dataVolumesReady(vmi: any): boolean | undefined {
    const names = dataVolumeNames(vmi.spec);
    if (names.length === 0) return undefined;
    return names.every((n) => dataVolumeReady(this.dvs.get(vmi.metadata.namespace, n)));
  }

  /** Writes the status for `step`; returns whether the phase changed. */
  private async write(vmi: any, step: VmiStep): Promise<boolean> {
    const status = vmiStatus(vmi, step, nowTimestamp());
    const labels = vmi.metadata.labels ?? {};
    const needsLabel = (step.phase === 'Scheduled' || step.phase === 'Running') && labels[NODE_LABEL] !== step.nodeName;
    if (sameVmiStatus(vmi.status, status) && !needsLabel) return false;
    const ops: JsonPatchOp[] = [{ op: 'add', path: '/status', value: withoutNulls(status) }];
    if (needsLabel) {
      ops.push(
        vmi.metadata.labels
          ? { op: 'add', path: `/metadata/labels/${pointerSegment(NODE_LABEL)}`, value: step.nodeName }
          : { op: 'add', path: '/metadata/labels', value: { [NODE_LABEL]: step.nodeName } },
      );
    }
    // virt-handler reports the running guest; virt-controller everything before.
    const manager = step.phase === 'Running' || step.phase === 'Failed' ? 'virt-handler' : 'virt-controller';
    const path = objectPath(VIRTUAL_MACHINE_INSTANCE, vmi.metadata.namespace, vmi.metadata.name);
    try {
      await patchObject(this.writer, this.vmis, path, vmi.metadata.uid, ops, manager);
    } catch (e) {
      if (e instanceof GoneError) return false; // deleted meanwhile: its DELETED event follows
      throw e;
    }
    this.stats.inc('statusWrites');
    const moved = vmi.status?.phase !== step.phase;
    if (moved) {
      this.lastStep.set(vmi.metadata.uid, Date.now());
      const ips = step.ips?.length ? ` ${step.ips.join(', ')}` : '';
      this.log(`VirtualMachineInstance ${vmi.metadata.namespace}/${vmi.metadata.name}: ${step.phase}${ips}`);
    }
    return moved;
  }
}

/** A stable pseudo pod uid for activePods (derived from the VMI uid, so rewrites do not flap). */
function podUidFor(vmiUid: string): string {
  return vmiUid.replace(/^(.{8})/, 'a1a1a1a1');
}
