/**
 * A simulator of the KubeVirt (virt-controller, virt-handler) and CDI controllers for a plain
 * kube-apiserver with the KubeVirt and CDI CRDs installed — for integration tests and
 * `npm start`. Test-only: nothing under functions/ or shared/ may import it.
 *
 *   const sim = await startSimulator({ kubeconfig: yamlText, timings: { dvStepMs: 20, … } });
 *   …
 *   await sim.stop();
 *
 * See README.md in this folder for the behaviour, the timings and the test hooks.
 */
import { DATA_VOLUME, VIRTUAL_MACHINE, VIRTUAL_MACHINE_INSTANCE } from '../../shared/kube/paths.js';
import { ensureImporter } from '../upstream/importer.js';
import { DataVolumeController } from './cdi/dv-controller.js';
import { VolumeStore } from './cdi/volumes.js';
import { kubeApiFrom } from './kube/api.js';
import { Informer } from './kube/informer.js';
import { DEFAULT_KUBELET_VERSION, NodeRegistration } from './kubelet/node-registration.js';
import { IpPool } from './kubevirt/ip-pool.js';
import { VmController } from './kubevirt/vm-controller.js';
import { VmiController } from './kubevirt/vmi-controller.js';
import { NODE, POD, PodTermination } from './kubelet/pod-termination.js';
import { Lifetime } from './lifetime.js';
import { DEFAULT_TIMINGS, KUBEVIRT_IDENTITY, resolveImporterOptions, type SimulatorOptions } from './options.js';
import { StatsRecorder, type SimulatorStats } from './stats.js';

export type { SimulatorOptions, SimulatorTimings, ImporterOptions, KubeClientLike } from './options.js';
export type { SimulatorStats } from './stats.js';
export { VMI_FAIL_ANNOTATION, MISSING_IMAGE_MARKER } from './hooks.js';

export interface Simulator {
  /** Stops every watch, timer, import and socket; resolves when nothing is left running and the work directory is gone. */
  stop(): Promise<void>;
  stats(): SimulatorStats;
  /** The simulator's work directory (removed by stop()). */
  workDir: string;
  /**
   * Where the http import of DataVolume `namespace/name` writes its disk (the PVC's
   * `disk.img`; content type archive unpacks into its directory); undefined when the
   * DataVolume is unknown. The file exists once an importer has written it.
   */
  diskOf(namespace: string, name: string): string | undefined;
}

/**
 * Starts the simulated controllers and resolves once every watched resource has been listed
 * (so objects that already exist are being handled). Rejects if that takes longer than
 * `syncTimeoutMs` (e.g. the KubeVirt/CDI CRDs are not installed), leaving nothing running.
 */
export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  const timings = { ...DEFAULT_TIMINGS, ...(opts.timings ?? {}) };
  const log = opts.log ?? (() => {});
  const life = new Lifetime();
  const stats = new StatsRecorder();
  const pool = new IpPool(opts.ipPool ?? '10.244.0.0/16');
  // CDI's importer first: building it (once per machine) can take minutes.
  const importer = resolveImporterOptions(opts.importer ?? {}, ensureImporter);
  const api = kubeApiFrom(opts.kubeconfig, (opts.actAsKubeVirt ?? true) ? KUBEVIRT_IDENTITY : undefined);
  const volumes = new VolumeStore(opts.workDir);

  const informer = (kind: typeof DATA_VOLUME) => new Informer(kind, api, life, timings, stats, log);
  const dvs = informer(DATA_VOLUME);
  const vms = informer(VIRTUAL_MACHINE);
  const vmis = informer(VIRTUAL_MACHINE_INSTANCE);
  // The kubelet's side of pod deletions on our simulated Nodes (in every namespace: the pods
  // are the Machines' cluster's workloads, not infra objects).
  const pods = informer(POD);
  const nodes = informer(NODE);

  // Handlers are registered before the first list, so pre-existing objects are reconciled.
  const dvController = new DataVolumeController(dvs, api, life, timings, importer, volumes, stats, log);
  const vmiController = new VmiController(vmis, dvs, api, life, timings, pool, opts.nodeName ?? 'sim-node-1', stats, log);
  const vmController = new VmController(
    vms,
    vmis,
    dvs,
    api,
    life,
    {
      adoptOrphanDataVolumes: opts.adoptOrphanDataVolumes ?? true,
      collectGarbage: opts.collectGarbage ?? true,
    },
    stats,
    log,
  );
  new PodTermination(pods, nodes, api, life, stats, log);

  // The kubelets of the running guests (opt-in: Nodes are cluster-scoped and outlive the VMIs).
  const kubelet = opts.kubelet ? new NodeRegistration(vmis, api, life, opts.kubelet.version ?? DEFAULT_KUBELET_VERSION, log) : undefined;

  const stop = async (): Promise<void> => {
    dvController.abortAll();
    await life.stop();
    api.close();
    volumes.removeAll();
  };

  // VMIs first: the addresses existing VMIs hold are reserved before any VMI can be given one.
  const synced = (async () => {
    await vmis.start(opts.namespaces);
    await Promise.all([dvs.start(opts.namespaces), vms.start(opts.namespaces), nodes.start(undefined), pods.start(undefined)]);
  })();
  const timeoutMs = opts.syncTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `simulator: the first list of VirtualMachineInstances, DataVolumes and VirtualMachines did not complete within ${timeoutMs} ms (are the KubeVirt and CDI CRDs installed?)`,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    await Promise.race([synced, timeout]);
  } catch (e) {
    await stop();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  for (const c of [dvController, vmiController, vmController, ...(kubelet ? [kubelet] : [])]) c.start();
  log(`simulator: watching ${opts.namespaces?.length ? opts.namespaces.join(', ') : 'all namespaces'}`);

  return {
    stop,
    workDir: volumes.root,
    diskOf: (namespace, name) => dvController.diskOf(namespace, name),
    stats: () => stats.snapshot({ virtualMachines: vms.size, virtualMachineInstances: vmis.size, dataVolumes: dvs.size }, pool.inUse),
  };
}
