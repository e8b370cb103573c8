/**
 * The node function's two triggers, both used as keys only (level-triggered: the Node and the
 * Machine are re-read):
 * - a v1 Node event (ApiServerSource on the Machines' cluster): find the Node's Machine, link
 *   and mirror (link.ts); the Node gone → its Machine's Node is lost;
 * - `machine.ready` (the vmi function gave the Machine its providerID and addresses): find the
 *   Machine's Node. A Node that registered before the Machine had either found no Machine then;
 *   this is what makes that order converge. resync's Machine re-announcements take the same
 *   path, so a lost Node event is made good within a resync period.
 * A Node or Machine that is not ours (no Machine of ours matches) is acknowledged, nothing written.
 */
import type { CloudEventV1 } from 'cloudevents';
import type { ApiServerEvent } from '../../events/apiserver.js';
import { MalformedEventError } from '../../events/apiserver.js';
import { FollowUpType, parseFollowUp } from '../../events/followup.js';
import { apiVersionOf, MACHINE } from '../../shared/kube/paths.js';
import { isTransient } from '../../shared/kube/rest.js';
import type { Machine } from '../../shared/machine/types.js';
import { getNode, listNodes } from '../../shared/node/api.js';
import {
  ANN_MACHINE,
  LABEL_OWNED_BY,
  likelyNodeName,
  linkable,
  machineForNode,
  matchNode,
  nodeForMachine,
} from '../../shared/node/match.js';
import type { Node } from '../../shared/node/types.js';
import { apiServerReconciler } from '../../shared/runtime/apiserver-reconciler.js';
import type { Reconciler } from '../../shared/runtime/handler.js';
import type { Logger } from '../../shared/runtime/log.js';
import { done, malformed, retry, type Outcome } from '../../shared/runtime/outcome.js';
import { SendHeld, SinkError } from '../../shared/runtime/sink.js';
import type { NodeDeps } from './deps.js';
import { link, markNodeDeleted } from './link.js';

export { FUNCTION_NAME } from './link.js';
const NODE_KIND = { apiVersion: 'v1', kind: 'Node' };
const MACHINE_KIND = { apiVersion: 'cluster.k8s.io/v1alpha1', kind: 'Machine' };

export function nodeReconciler(deps: NodeDeps): Reconciler {
  const onApiServer = apiServerReconciler([NODE_KIND, MACHINE_KIND], (ev, log) =>
    ev.kind === 'Node'
      ? nodeEvent(deps, ev, log.with({ node: ev.name }))
      : machineKey(deps, { namespace: ev.namespace, name: ev.name }, { traceparent: ev.traceparent }, log),
  );
  return async (ce: CloudEventV1<unknown>, log: Logger): Promise<Outcome> => {
    if (ce.type !== FollowUpType.ready) return onApiServer(ce, log);
    try {
      const { machine } = parseFollowUp(ce, FollowUpType.ready);
      return await machineKey(deps, machine, { traceparent: typeof ce.traceparent === 'string' ? ce.traceparent : undefined }, log);
    } catch (e) {
      if (e instanceof MalformedEventError) return malformed(e.message);
      if (e instanceof SendHeld) return done(`follow-up held: ${e.message}`);
      if (isTransient(e) || e instanceof SinkError) return retry((e as Error).message);
      throw e;
    }
  };
}

/** Every Machine of the cluster (the Machines' ApiServerSource is cluster-wide too). */
async function allMachines(deps: NodeDeps): Promise<Machine[]> {
  const all = await deps.machines.kube.request<{ items?: Machine[] }>('GET', `/apis/${apiVersionOf(MACHINE)}/${MACHINE.plural}`);
  return all.items ?? [];
}

/**
 * The Machine a linked Node names (`cluster.k8s.io/machine` + owned-by UID, which this function
 * wrote) with one GET; the full Machine list only for a Node not linked yet.
 */
async function machineOfNode(deps: NodeDeps, node: Node): Promise<Machine | undefined> {
  const named = node.metadata.annotations?.[ANN_MACHINE]?.split('/');
  const uid = node.metadata.labels?.[LABEL_OWNED_BY];
  if (named?.length === 2 && uid) {
    const m = await deps.machines.get(named[0]!, named[1]!);
    if (m && m.metadata.uid === uid && linkable(m, deps.env) && matchNode(m, node)) return m;
  }
  return machineForNode(node, await allMachines(deps), deps.env)?.machine;
}

async function nodeEvent(deps: NodeDeps, ev: ApiServerEvent, log: Logger): Promise<Outcome> {
  const trace = { traceparent: ev.traceparent };
  const node = await getNode(deps.machines.kube, ev.name);
  const payloadUid = ev.object?.metadata.uid;
  const notes: string[] = [];
  // The Node is gone, or the event's Node was replaced by another of the same name: the
  // Machines linked to the one the event was about have lost it.
  if (!node || (payloadUid && payloadUid !== node.metadata.uid && ev.operation === 'delete')) {
    const goneUid = node ? payloadUid : undefined;
    const linked = (await allMachines(deps)).filter(
      (m) =>
        linkable(m, deps.env) &&
        m.status?.nodeRef?.name === ev.name &&
        (goneUid === undefined || (m.status.nodeRef as { uid?: string }).uid === goneUid),
    );
    for (const m of linked) notes.push(await markNodeDeleted(deps, m, ev.name, trace, log));
    if (!node) return done(linked.length ? notes.join('; ') : 'node gone, no Machine of ours linked to it');
  }
  const m = await machineOfNode(deps, node);
  if (!m) return done('no Machine of ours for this Node');
  notes.push(await link(deps, m, node, trace, log));
  return done(notes.join('; '));
}

/**
 * A Machine key: the `machine.ready` follow-up, or resync's re-announcement of the Machine (the
 * Node source is lossy like every ApiServerSource: a missed Node event is made good within a
 * resync period). Finds the Machine's Node and links it.
 */
async function machineKey(
  deps: NodeDeps,
  ref: { namespace: string; name: string; uid?: string },
  trace: { traceparent?: string },
  log: Logger,
): Promise<Outcome> {
  const l = log.with({ machine: `${ref.namespace}/${ref.name}` });
  const m = await deps.machines.get(ref.namespace, ref.name);
  if (!m || (ref.uid && m.metadata.uid !== ref.uid)) return done('machine gone');
  if (!linkable(m, deps.env)) return done('not a live Machine of ours');
  if (!m.status?.nodeRef?.name && !m.spec?.providerID && !m.status?.addresses?.length) {
    return done('no providerID or address yet: nothing a Node could match');
  }
  const kube = deps.machines.kube;
  const linkedName = m.status?.nodeRef?.name;
  if (linkedName) {
    const linked = await getNode(kube, linkedName);
    if (linked) return done(await link(deps, m, linked, trace, l));
  }
  // Cheapest first: the Node named after the VM (a kubelet registers under its hostname).
  const guess = likelyNodeName(m);
  const byName = guess ? await getNode(kube, guess) : undefined;
  const found = byName && matchNode(m, byName) ? byName : nodeForMachine(m, await listNodes(kube))?.node;
  if (!found) {
    if (linkedName) return done(await markNodeDeleted(deps, m, linkedName, trace, l));
    return done('no Node for this Machine yet: its registration event will link it');
  }
  return done(await link(deps, m, found, trace, l));
}
