/**
 * The KubeVirt guide's network rule: the Machines' cluster (the user cluster whose nodes the
 * VMs become) and the infra cluster (where the VMs run, as pods) must not share service or
 * pod ranges, or traffic from a VM to an address in the shared range goes to the wrong cluster.
 *
 * Only meaningful when the two are different clusters: when the infra cluster is the Machines'
 * cluster (same API server, e.g. `npm start`'s embedded mode) the caller skips the check, since
 * every range overlaps itself.
 */
import { cidrsOverlap, parseCidr, type Cidr } from './cidr.js';
import { parseCidrList, PreflightConfigError } from './refused.js';
import { ApiError, type KubeClient } from '../kube/rest.js';

/** One cluster's ranges, as CIDR texts. */
export interface ClusterCidrs {
  serviceCidrs: string[];
  podCidrs: string[];
}

/** One overlapping pair. */
export interface CidrOverlap {
  machines: { kind: 'service' | 'pod'; cidr: string };
  infra: { kind: 'service' | 'pod'; cidr: string };
}

export type CidrOverlapResult =
  | { ok: true; /** Pairs compared; 0 means one side had no ranges (nothing known, nothing checked). */ compared: number }
  | { ok: false; overlaps: CidrOverlap[]; message: string };

/**
 * Compares every range of the Machines' cluster with every range of the infra cluster
 * (service and pod alike: a VM reaching either wrong range misroutes). IPv4 and IPv6 ranges
 * never overlap each other.
 * @throws PreflightConfigError when a range is not a CIDR.
 */
export function checkCidrOverlap(machinesCluster: ClusterCidrs, infraCluster: ClusterCidrs): CidrOverlapResult {
  const mine = ranges(machinesCluster, "the Machines' cluster");
  const theirs = ranges(infraCluster, 'the infra cluster');
  const overlaps: CidrOverlap[] = [];
  for (const m of mine) {
    for (const i of theirs) {
      if (cidrsOverlap(m.cidr, i.cidr)) overlaps.push({ machines: { kind: m.kind, cidr: m.text }, infra: { kind: i.kind, cidr: i.text } });
    }
  }
  if (overlaps.length === 0) return { ok: true, compared: mine.length * theirs.length };
  const pairs = overlaps.map(
    (o) =>
      `${o.machines.kind} CIDR ${o.machines.cidr} of the Machines' cluster overlaps ${o.infra.kind} CIDR ${o.infra.cidr} of the infra cluster`,
  );
  return {
    ok: false,
    overlaps,
    message:
      `${pairs.join('; ')}. The VMs would route traffic for these addresses to the wrong cluster; ` +
      `give the Machines' cluster service and pod ranges that do not overlap the infra cluster's`,
  };
}

interface KnownRange {
  kind: 'service' | 'pod';
  text: string;
  cidr: Cidr;
}

function ranges(c: ClusterCidrs, which: string): KnownRange[] {
  const out: KnownRange[] = [];
  for (const [kind, list] of [
    ['service', c.serviceCidrs],
    ['pod', c.podCidrs],
  ] as const) {
    for (const text of list) {
      const cidr = parseCidr(text);
      if (!cidr) throw new PreflightConfigError(`${kind} CIDR "${text}" of ${which} is not a valid CIDR`);
      out.push({ kind, text: text.trim(), cidr });
    }
  }
  return out;
}

/** The env variables naming each cluster's ranges (comma-separated CIDRs). */
export const CIDR_ENV = {
  machinesService: 'MACHINES_CLUSTER_SERVICE_CIDRS',
  machinesPod: 'MACHINES_CLUSTER_POD_CIDRS',
  infraService: 'INFRA_CLUSTER_SERVICE_CIDRS',
  infraPod: 'INFRA_CLUSTER_POD_CIDRS',
} as const;

/**
 * Both clusters' configured ranges from the environment (unset → empty lists).
 * These are the fallback when the API does not tell (see {@link clusterCidrs}).
 * @throws PreflightConfigError naming the variable and the invalid entry.
 */
export function cidrConfigFromEnv(env: NodeJS.ProcessEnv): { machines: ClusterCidrs; infra: ClusterCidrs } {
  const list = (name: string): string[] => parseCidrList(env[name] ?? '', name).map((c) => c.text);
  return {
    machines: { serviceCidrs: list(CIDR_ENV.machinesService), podCidrs: list(CIDR_ENV.machinesPod) },
    infra: { serviceCidrs: list(CIDR_ENV.infraService), podCidrs: list(CIDR_ENV.infraPod) },
  };
}

/** Where each list came from, for logs. */
export interface ClusterCidrsFound extends ClusterCidrs {
  sources: { service: 'ServiceCIDR' | 'config' | 'none'; pod: 'nodes+config' | 'nodes' | 'config' | 'none' };
}

const SERVICE_CIDRS = '/apis/networking.k8s.io/v1/servicecidrs';
const NODES = '/api/v1/nodes';
const PAGE = 500;

/**
 * Reads one cluster's ranges.
 * - Service: `networking.k8s.io/v1` ServiceCIDR objects' `spec.cidrs` (Kubernetes ≥ 1.33; the
 *   API server keeps one named `kubernetes` for its `--service-cluster-ip-range`). Where the
 *   API is absent (404), not readable (403) or lists none: `fallback.serviceCidrs`.
 * - Pod: every node's `spec.podCIDRs` (each a slice of the cluster's pod range) together with
 *   `fallback.podCidrs` (the whole range, which also covers slices not yet handed out).
 *   Nodes not readable (403/404): the fallback alone.
 * Other API failures (5xx, network) propagate: they are transient.
 */
export async function clusterCidrs(kube: KubeClient, fallback: Partial<ClusterCidrs> = {}): Promise<ClusterCidrsFound> {
  const fromApi = await readable(() => serviceCidrsFromApi(kube));
  const service = fromApi && fromApi.length > 0 ? fromApi : (fallback.serviceCidrs ?? []);
  const nodeRanges = (await readable(() => nodePodCidrs(kube))) ?? [];
  const configured = fallback.podCidrs ?? [];
  const pod = [...new Set([...configured, ...nodeRanges])];
  return {
    serviceCidrs: service,
    podCidrs: pod,
    sources: {
      service: fromApi && fromApi.length > 0 ? 'ServiceCIDR' : service.length > 0 ? 'config' : 'none',
      pod: nodeRanges.length > 0 ? (configured.length > 0 ? 'nodes+config' : 'nodes') : configured.length > 0 ? 'config' : 'none',
    },
  };
}

async function serviceCidrsFromApi(kube: KubeClient): Promise<string[] | undefined> {
  const list = await kube.get<{ items?: { spec?: { cidrs?: string[] } }[] }>(SERVICE_CIDRS);
  if (!list) return undefined;
  return [...new Set((list.items ?? []).flatMap((i) => i.spec?.cidrs ?? []))];
}

async function nodePodCidrs(kube: KubeClient): Promise<string[] | undefined> {
  const out = new Set<string>();
  let cont: string | undefined;
  do {
    type NodeList = { metadata?: { continue?: string }; items?: { spec?: { podCIDR?: string; podCIDRs?: string[] } }[] };
    const page = await kube.request<NodeList>('GET', NODES, { query: { limit: PAGE, continue: cont } });
    for (const n of page.items ?? []) {
      // podCIDRs (dual-stack) supersedes podCIDR; older objects may carry only the latter.
      for (const c of n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : [])) out.add(c);
    }
    cont = page.metadata?.continue || undefined;
  } while (cont);
  return [...out];
}

/** Runs a read; a 404 or 403 (API absent, or our ServiceAccount may not read it) → undefined. */
async function readable<T>(read: () => Promise<T | undefined>): Promise<T | undefined> {
  try {
    return await read();
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 403)) return undefined;
    throw e;
  }
}
