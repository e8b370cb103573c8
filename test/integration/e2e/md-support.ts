/**
 * Helpers for the MachineDeployment / MachineSet end-to-end tests: objects built from the
 * README's example manifest, listings, the scale subresource, Events, and a watch that checks an
 * invariant on every change of a namespace's Machines.
 */
import { parseAllDocuments } from 'yaml';
import { exampleManifest } from '../../../dev/stack/index.js';
import type { KubeClient } from '../../../shared/kube/rest.js';
import { watchUntil } from '../../../dev/kube/watch.js';
import { adminKube, eventually } from '../support/kube.js';

export const API_VERSION = 'cluster.k8s.io/v1alpha1';
const GROUP = `/apis/${API_VERSION}`;

export const paths = {
  mds: (ns: string) => `${GROUP}/namespaces/${ns}/machinedeployments`,
  md: (ns: string, name: string) => `${GROUP}/namespaces/${ns}/machinedeployments/${name}`,
  mss: (ns: string) => `${GROUP}/namespaces/${ns}/machinesets`,
  ms: (ns: string, name: string) => `${GROUP}/namespaces/${ns}/machinesets/${name}`,
  machines: (ns: string) => `${GROUP}/namespaces/${ns}/machines`,
  machine: (ns: string, name: string) => `${GROUP}/namespaces/${ns}/machines/${name}`,
};

/** Schemaless CRD objects as read from the API. */
export type Obj = any;

/** The example MachineDeployment (image URL pointed at the stack's image server). */
export function exampleDeployment(imageUrl: string): Obj {
  return parseAllDocuments(exampleManifest(imageUrl))[0].toJS();
}

export interface DeploymentOptions {
  replicas?: number;
  maxSurge?: number | string;
  maxUnavailable?: number | string;
  paused?: boolean;
  /** Template labels (default `{pool: <name>}`, also the selector). */
  labels?: Record<string, string>;
  selector?: Record<string, string>;
}

/** The example MachineDeployment renamed into `ns`, with its pool label, size and strategy set. */
export function machineDeployment(imageUrl: string, ns: string, name: string, o: DeploymentOptions = {}): Obj {
  const md = exampleDeployment(imageUrl);
  const labels = o.labels ?? { pool: name };
  md.metadata = { name, namespace: ns };
  md.spec.selector = { matchLabels: o.selector ?? labels };
  md.spec.template.metadata = { labels };
  if (o.replicas !== undefined) md.spec.replicas = o.replicas;
  md.spec.strategy.rollingUpdate = { maxSurge: o.maxSurge ?? 1, maxUnavailable: o.maxUnavailable ?? 0 };
  if (o.paused !== undefined) md.spec.paused = o.paused;
  return md;
}

/** A MachineSet (no MachineDeployment) with the example's Machine template. */
export function machineSet(imageUrl: string, ns: string, name: string, replicas: number, deletePolicy?: string): Obj {
  const spec = exampleDeployment(imageUrl).spec.template.spec;
  return {
    apiVersion: API_VERSION,
    kind: 'MachineSet',
    metadata: { name, namespace: ns },
    spec: {
      replicas,
      ...(deletePolicy ? { deletePolicy } : {}),
      selector: { matchLabels: { set: name } },
      template: { metadata: { labels: { set: name } }, spec },
    },
  };
}

export const isDeleting = (m: Obj): boolean => Boolean(m.metadata.deletionTimestamp);
/** Ready as the MachineSet counts it on this stack (no Node visible): our phase, and not being deleted. */
export const isReady = (m: Obj): boolean => m.status?.providerStatus?.phase === 'Ready' && !isDeleting(m);
/**
 * Linked to its Node and that Node Ready, as the node function mirrors it: the settled state of a
 * Machine on a stack whose simulated guests register Nodes. Until then a Machine counted ready
 * by its VMI may still be counted not ready for a moment, when its Node links before it reports
 * Ready (the rollout counts a linked Machine by its Node only).
 */
export const nodeLinkedReady = (m: Obj): boolean =>
  Boolean(m.status?.nodeRef?.name) && (m.status?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True');
/** The name of the MachineSet controlling a Machine. */
export const ownerSet = (m: Obj): string | undefined =>
  m.metadata.ownerReferences?.find((o: Obj) => o.controller && o.kind === 'MachineSet')?.name;

export async function items(kube: KubeClient, path: string): Promise<Obj[]> {
  return (await kube.request<{ items: Obj[] }>('GET', path)).items;
}
export const machinesOf = (kube: KubeClient, ns: string) => items(kube, paths.machines(ns));
export const machineSetsOf = (kube: KubeClient, ns: string) => items(kube, paths.mss(ns));

/** `kubectl scale md/<name> --replicas=n`: a merge patch of the scale subresource. */
export function scaleDeployment(kube: KubeClient, ns: string, name: string, replicas: number): Promise<Obj> {
  return kube.patch(`${paths.md(ns, name)}/scale`, 'merge', { spec: { replicas } });
}

/** Events about one object, oldest first. */
export async function eventsAbout(kube: KubeClient, ns: string, kind: string, name: string): Promise<Obj[]> {
  const all = await items(kube, `/api/v1/namespaces/${ns}/events`);
  return all.filter((e) => e.involvedObject?.kind === kind && e.involvedObject?.name === name);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a watch of Machines saw. */
export interface WatchResult {
  /** Violations `check` reported (the watch stops at the first). */
  violations: string[];
  /** Machine states checked (the start, then one per watch event). */
  states: number;
  /** `done` held before the timeout. */
  finished: boolean;
  /** The Machines as last seen. */
  last: Obj[];
}

/**
 * Watches the Machines of `ns` from a listing and calls `check` with the full set after every
 * change (each watch event is one state the API server went through). Stops at the first
 * violation `check` returns, when `done` holds, or after `timeoutMs`.
 */
export async function watchMachines(
  ns: string,
  start: { items: Obj[]; metadata: { resourceVersion: string } },
  check: (machines: Obj[]) => string | undefined,
  done: (machines: Obj[]) => boolean,
  timeoutMs: number,
): Promise<WatchResult> {
  const current = new Map<string, Obj>(start.items.map((m) => [m.metadata.name, m]));
  const result: WatchResult = { violations: [], states: 0, finished: false, last: start.items };
  const evaluate = (): boolean => {
    const list = [...current.values()];
    result.last = list;
    result.states++;
    const v = check(list);
    if (v) result.violations.push(v);
    else if (done(list)) result.finished = true;
    return result.violations.length > 0 || result.finished;
  };
  if (evaluate()) return result;
  try {
    await watchUntil(
      adminKube(),
      paths.machines(ns),
      { resourceVersion: start.metadata.resourceVersion },
      ({ type, object }) => {
        const m = object as Obj;
        if (type === 'DELETED') current.delete(m.metadata.name);
        else if (type === 'ADDED' || type === 'MODIFIED') current.set(m.metadata.name, m);
        else return false; // BOOKMARK
        return evaluate();
      },
      timeoutMs,
    );
  } catch (e) {
    if (!/timeout after/.test((e as Error).message)) throw e;
  }
  return result;
}

/** One line per Machine for failure messages. */
export function describe(machines: Obj[]): string {
  return machines
    .map(
      (m) =>
        `${m.metadata.name}(${ownerSet(m) ?? '-'}, ${m.status?.providerStatus?.phase ?? 'no phase'}${isDeleting(m) ? ', deleting' : ''})`,
    )
    .join(' ');
}

/**
 * For a rollout that did not finish: each MachineSet's size and status as stored, and each
 * Machine's readiness as the rollout counts it (Node mirror when linked, else VMIReady).
 */
export async function rolloutState(kube: KubeClient, ns: string): Promise<string> {
  const [sets, machines] = await Promise.all([
    kube.request<{ items: Obj[] }>('GET', paths.mss(ns)).then((l) => l.items),
    kube.request<{ items: Obj[] }>('GET', paths.machines(ns)).then((l) => l.items),
  ]);
  const cond = (list: Obj[] | undefined, type: string) => {
    const c = (list ?? []).find((x: Obj) => x.type === type);
    return c ? `${c.status}${c.reason ? `/${c.reason}` : ''}` : '-';
  };
  const ms = sets.map(
    (s) => `${s.metadata.name} spec=${s.spec.replicas} gen=${s.metadata.generation} status=${JSON.stringify(s.status ?? {})}`,
  );
  const m = machines.map(
    (x) =>
      `${x.metadata.name} node=${x.status?.nodeRef?.name ?? '-'} Ready=${cond(x.status?.conditions, 'Ready')} VMIReady=${cond(x.status?.providerStatus?.conditions, 'VMIReady')}${isDeleting(x) ? ' deleting' : ''}`,
  );
  return `MachineSets: ${ms.join('; ')} | Machines: ${m.join('; ')}`;
}

/** `eventually` whose failure names the last state seen: `probe` returns whether it holds and a description. */
export async function until(
  what: string,
  probe: () => Promise<[boolean, string]>,
  opts = { timeoutMs: 60_000, intervalMs: 100 },
): Promise<void> {
  let state = '';
  await eventually(
    what,
    async () => {
      const [ok, s] = await probe();
      state = s;
      return ok;
    },
    opts,
  ).catch((e) => {
    throw new Error(`${(e as Error).message}; last: ${state}`);
  });
}

/**
 * Deletes every MachineDeployment and MachineSet of `ns` and waits until its Machines are gone
 * (the stack still running: the machine function releases each finalizer after its cleanup).
 * Files that make many Machines call it before stopping their stack, so the control plane the
 * suite shares is not left carrying them into the next file (every resync tick and listing
 * there would pay for them).
 */
export async function removeDeployments(kube: KubeClient, ns: string, timeoutMs = 180_000): Promise<void> {
  for (const md of await items(kube, paths.mds(ns))) await kube.delete(paths.md(ns, md.metadata.name));
  for (const ms of await items(kube, paths.mss(ns))) await kube.delete(paths.ms(ns, ms.metadata.name));
  // Machines whose set is gone before the set controller saw it are deleted here too.
  for (const m of await machinesOf(kube, ns)) if (!isDeleting(m)) await kube.delete(paths.machine(ns, m.metadata.name));
  await until(
    `the Machines of ${ns} gone`,
    async () => {
      const left = await machinesOf(kube, ns);
      return [left.length === 0, describe(left)];
    },
    { timeoutMs, intervalMs: 250 },
  );
}
