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
  /** Pause after each progress report of an import (real HTTP or simulated). */
  importChunkMs: number;
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
  /** Progress reports per import when Content-Length is known (and for simulated imports). Default 4. */
  progressSteps?: number;
  /** Dial timeout (Go's DefaultTransport: 30 s) → `dial tcp …: i/o timeout`. */
  connectTimeoutMs?: number;
  /** No bytes for this long cancels the transfer (CDI: 10 min without progress). */
  idleTimeoutMs?: number;
  /** Go's http.Client stops after 10 redirects. */
  maxRedirects?: number;
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
  vmiStepMs: 200,
  restartBackoffMs: 1_000,
  restartBackoffMaxMs: 10_000,
  pollMs: 1_000,
  watchRetryMs: 200,
};

export interface ResolvedImporterOptions {
  progressSteps: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  maxRedirects: number;
}

export function resolveImporterOptions(o: ImporterOptions = {}): ResolvedImporterOptions {
  return {
    progressSteps: Math.max(1, Math.floor(o.progressSteps ?? 4)),
    connectTimeoutMs: o.connectTimeoutMs ?? 30_000,
    idleTimeoutMs: o.idleTimeoutMs ?? 600_000,
    maxRedirects: o.maxRedirects ?? 10,
  };
}

/** CrashLoopBackOff-like delay before restart number `restart` (1-based). */
export function restartDelay(t: SimulatorTimings, restart: number): number {
  return Math.min(t.restartBackoffMaxMs, t.restartBackoffMs * 2 ** Math.max(0, restart - 1));
}
