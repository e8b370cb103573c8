/**
 * Options of the KubeVirt/CDI simulator and their defaults.
 *
 * Defaults are "modest" (a few hundred milliseconds per step) so `npm start` shows every phase
 * to a human; tests pass tens of milliseconds so a VM runs in well under a second.
 */
import type { RequestOptions } from '../../shared/kube/rest.js';

/** The part of the project's KubeClient the simulator needs when given a client instead of a kubeconfig. */
export interface KubeClientLike {
  request<T = any>(method: string, path: string, opts?: RequestOptions): Promise<T>;
}

export interface SimulatorTimings {
  /** Between DataVolume phases before the import starts ('' → Pending → ImportScheduled → ImportInProgress). */
  dvStepMs: number;
  /** Between the steps of a simulated transfer (registry, clone, blank…); progress is read every progressPollMs. */
  importChunkMs: number;
  /** How often a running importer's progress metric is copied to the DataVolume (CDI's controller: every 2 s). */
  progressPollMs: number;
  /** Between VMI phases (Pending → Scheduling → Scheduled → Running). */
  vmiStepMs: number;
  /** First importer restart delay (kubelet's CrashLoopBackOff starts at 10 s); doubles per restart. */
  restartBackoffMs: number;
  /** Cap of the restart delay (kubelet: 5 min). */
  restartBackoffMaxMs: number;
  /** List interval when the simulator was given a KubeClient-like object (no streaming watch). */
  pollMs: number;
  /** First delay before a failed list/watch is retried; doubles up to 5 s. */
  watchRetryMs: number;
}

export interface ImporterOptions {
  /** CDI's importer program; default: dev/upstream/importer.ts ensureImporter() (built once, cached). */
  binary?: string;
  /**
   * Importer pods the simulated node has room for at once, as a scheduler would count them (each
   * holds its place from start to success, restarts included; the rest wait in ImportScheduled,
   * Running False / Unschedulable). Default: no limit — one importer process costs a few tens of
   * milliseconds of CPU, and 50 at once do not overload two cores. A node with N CPUs and
   * nothing else on it fits N × 1000m / 100m (CDI's default importer CPU request).
   */
  maxConcurrent?: number;
  /** Progress reports of a simulated (non-http) transfer. Default 4. */
  progressSteps?: number;
  /** Where qemu-img is looked for (PATH syntax); default this process's PATH. */
  searchPath?: string;
}

export interface SimulatorOptions {
  /** Kubeconfig YAML text (streaming watches) or a KubeClient-like object (list polling). */
  kubeconfig: string | KubeClientLike;
  /** Namespaces to watch; default: all namespaces (cluster-wide list/watch). */
  namespaces?: string[];
  timings?: Partial<SimulatorTimings>;
  /** IPv4 CIDR VMI interface addresses come from; default 10.244.0.0/16 (a kind/flannel pod CIDR). */
  ipPool?: string;
  importer?: ImporterOptions;
  /**
   * Where the simulator's work directory (volumes of http imports, scratch space) is created;
   * default the OS temp directory. The work directory itself is removed on stop().
   */
  workDir?: string;
  /** nodeName reported on scheduled VMIs. */
  nodeName?: string;
  /**
   * Adopt a DataVolume named by a VM's dataVolumeTemplates that exists without any controller
   * ownerReference, as virt-controller's ClaimMatchedDataVolumes does (default true). A DataVolume
   * controlled by another owner is never adopted (upstream neither).
   */
  adoptOrphanDataVolumes?: boolean;
  /**
   * Delete the VMI and DataVolumes a deleted VM controlled (matched by ownerReference uid), standing
   * in for kube-controller-manager's garbage collector when none runs (default true; harmless when it does).
   */
  collectGarbage?: boolean;
  /**
   * Act as KubeVirt's virt-controller ServiceAccount (default true; only with kubeconfig text),
   * as the components the simulator stands in for do: KubeVirt's admission lets only KubeVirt's
   * service accounts set a VMI's reserved labels (kubevirt.io/nodeName) or change its spec. See
   * KUBEVIRT_IDENTITY; the kubeconfig's credentials must be allowed to impersonate (cluster-admin
   * is). false: requests go as the kubeconfig's own user.
   */
  actAsKubeVirt?: boolean;
  /**
   * Play the kubelet of every running VMI (kubelet/node-registration.ts): register a Node named after it
   * (`providerID: kubevirt://<vm>`, InternalIP, kubelet `version`, Ready) and mark it Unknown
   * when the VMI stops. Default off: Nodes are cluster-scoped and are never deleted here.
   */
  kubelet?: { version?: string };
  /** How long startSimulator waits for the first list of every watched resource. Default 30 s. */
  syncTimeoutMs?: number;
  /** One line per notable action; default silent. */
  log?: (line: string) => void;
}

/**
 * Whom the simulator's requests impersonate (SimulatorOptions.actAsKubeVirt): virt-controller's
 * ServiceAccount in KubeVirt's install namespace, with the groups a ServiceAccount token carries,
 * plus system:masters: the rights the simulator had as the admin, on a cluster that has none of
 * KubeVirt's RBAC. Admission sees a KubeVirt service account as the user.
 */
export const KUBEVIRT_IDENTITY = {
  user: 'system:serviceaccount:kubevirt:kubevirt-controller',
  groups: ['system:masters', 'system:serviceaccounts', 'system:serviceaccounts:kubevirt', 'system:authenticated'],
};

export const DEFAULT_TIMINGS: SimulatorTimings = {
  dvStepMs: 200,
  importChunkMs: 200,
  progressPollMs: 2_000,
  vmiStepMs: 200,
  restartBackoffMs: 1_000,
  restartBackoffMaxMs: 10_000,
  pollMs: 1_000,
  watchRetryMs: 200,
};

export interface ResolvedImporterOptions {
  binary: string;
  maxConcurrent: number;
  progressSteps: number;
  searchPath: string | undefined;
}

export function resolveImporterOptions(o: ImporterOptions, ensureBinary: () => string): ResolvedImporterOptions {
  return {
    binary: o.binary ?? ensureBinary(),
    maxConcurrent: Math.max(1, Math.floor(o.maxConcurrent ?? Infinity)),
    progressSteps: Math.max(1, Math.floor(o.progressSteps ?? 4)),
    searchPath: o.searchPath,
  };
}

/** CrashLoopBackOff-like delay before restart number `restart` (1-based). */
export function restartDelay(t: SimulatorTimings, restart: number): number {
  return Math.min(t.restartBackoffMaxMs, t.restartBackoffMs * 2 ** Math.max(0, restart - 1));
}
