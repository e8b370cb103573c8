/**
 * The pure decisions of draining a Machine's Node before its VM is deleted, after
 * machine-controller v1.66.0 (`pkg/controller/machine/controller.go` shouldEvict/deleteMachine,
 * `pkg/node/eviction/eviction.go`): whether to evict at all, and which pods to evict.
 * The I/O is functions/machine/drain.ts.
 */

/** machine-controller's Node ownership label (`NodeOwnerLabelName`): value = the Machine's UID. */
export const NODE_OWNER_LABEL = 'machine-controller/owned-by';
/** machine-controller's `SkipEvictionAnnotationKey`: a Node carrying it is not drained. */
export const SKIP_EVICTION_ANNOTATION = 'kubermatic.io/skip-eviction';
/** corev1.MirrorPodAnnotationKey: a static pod's API mirror; evicting it does nothing. */
export const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
/** machine-controller's `-skip-eviction-after` default. */
export const DEFAULT_SKIP_EVICTION_AFTER_MS = 2 * 60 * 60 * 1000;
export const SKIP_EVICTION_AFTER_ENV = 'SKIP_EVICTION_AFTER';

export interface NodeLike {
  metadata: { name: string; uid: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { unschedulable?: boolean; providerID?: string };
  status?: { conditions?: { type: string; status: string }[] };
}

export interface PodLike {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    deletionTimestamp?: string;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; controller?: boolean }[];
  };
  spec?: { nodeName?: string };
  status?: { phase?: string };
}

/** machine-controller's nodeIsReady: the Ready condition is True (False and Unknown are not). */
export function nodeIsReady(n: NodeLike): boolean {
  return (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/**
 * A Go duration (`time.ParseDuration`, as machine-controller's `-skip-eviction-after` flag takes
 * it: "2h", "90m", "1h30m", "45s", "500ms") in milliseconds; undefined when malformed or negative.
 */
export function parseGoDuration(text: string): number | undefined {
  const t = text.trim();
  if (t === '0') return 0;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < t.length) {
    re.lastIndex = at;
    const m = re.exec(t);
    if (!m) return undefined;
    total += Number(m[1]) * unit[m[2]];
    at = re.lastIndex;
  }
  return at > 0 ? total : undefined;
}

/** SKIP_EVICTION_AFTER from the environment; unset → 2 h. Malformed → undefined (the caller says so). */
export function skipEvictionAfterMs(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env[SKIP_EVICTION_AFTER_ENV];
  if (raw === undefined || raw.trim() === '') return DEFAULT_SKIP_EVICTION_AFTER_MS;
  return parseGoDuration(raw);
}

export type EvictionSkip = 'DeletionTooOld' | 'NodeNotReady' | 'SkipEvictionAnnotation' | 'NoEvictionTarget';

/**
 * Why `node` is not drained, or undefined when it is. In machine-controller's order: a deletion
 * older than the bound (the drain is assumed stuck: a misconfigured budget, a dead kubelet), a
 * Node that is not Ready (its kubelet would never finish an eviction), the skip annotation.
 * Whether an eviction target exists is a separate look-up (hasEvictionTarget) the caller makes
 * only when these pass.
 */
export function evictionSkip(
  node: NodeLike,
  deletionTimestamp: string | undefined,
  nowMs: number,
  skipAfterMs: number,
): EvictionSkip | undefined {
  if (deletionTimestamp && nowMs - Date.parse(deletionTimestamp) > skipAfterMs) return 'DeletionTooOld';
  if (!nodeIsReady(node)) return 'NodeNotReady';
  if (node.metadata.annotations?.[SKIP_EVICTION_ANNOTATION] !== undefined) return 'SkipEvictionAnnotation';
  return undefined;
}

/**
 * machine-controller's last shouldEvict check: evicted pods need somewhere to go, so an eviction
 * is only possible when another Machine has no Node yet (one that is probably just being
 * created) or another Node is schedulable. Draining the last Node would only leave pods Pending
 * and, behind a budget, block the deletion until the bound.
 * `machines`: every Machine of the cluster (`self` excluded here: ours has not lost its Node).
 */
export function hasEvictionTarget(
  node: NodeLike,
  selfUid: string,
  machines: { metadata: { uid: string }; status?: { nodeRef?: unknown } | null }[],
  nodes: NodeLike[],
): boolean {
  if (machines.some((m) => m.metadata.uid !== selfUid && !m.status?.nodeRef)) return true;
  return nodes.some((n) => n.metadata.name !== node.metadata.name && !n.spec?.unschedulable);
}

export interface PodsOnNode {
  /** Pods to evict now. */
  evict: PodLike[];
  /** Evicted (or otherwise deleted) pods the kubelet is still stopping: the VM waits for them. */
  terminating: PodLike[];
}

/**
 * machine-controller's getFilteredPods, with terminating pods set apart: finished pods
 * (Succeeded/Failed), DaemonSet pods (their controller tolerates the cordon and would recreate
 * them) and mirror pods (the kubelet owns them) are never evicted; a pod already being deleted
 * is not evicted again, but waited for, so no container is still running when the VM goes.
 */
export function podsOnNode(pods: PodLike[]): PodsOnNode {
  const out: PodsOnNode = { evict: [], terminating: [] };
  for (const p of pods) {
    if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
    if (p.metadata.ownerReferences?.some((o) => o.controller && o.kind === 'DaemonSet')) continue;
    if (p.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) continue;
    (p.metadata.deletionTimestamp ? out.terminating : out.evict).push(p);
  }
  const byName = (a: PodLike, b: PodLike) =>
    a.metadata.namespace.localeCompare(b.metadata.namespace) || a.metadata.name.localeCompare(b.metadata.name);
  out.evict.sort(byName);
  out.terminating.sort(byName);
  return out;
}

/** `ns/name` of up to `max` pods, then "and N more": bounded, stable text for status and Events. */
export function podList(pods: PodLike[], max = 5): string {
  const names = pods.slice(0, max).map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
  return pods.length > max ? `${names.join(', ')} and ${pods.length - max} more` : names.join(', ');
}

/** "2h", "90m", "45s": a bound for messages. */
export function formatDuration(ms: number): string {
  if (ms % 3600e3 === 0) return `${ms / 3600e3}h`;
  if (ms % 60e3 === 0) return `${ms / 60e3}m`;
  if (ms % 1e3 === 0) return `${ms / 1e3}s`;
  return `${ms}ms`;
}
