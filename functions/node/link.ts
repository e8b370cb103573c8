/**
 * One Machine and its Node, brought in line (machine-controller's node handling, reference
 * §5.2): the Node labelled `machine-controller/owned-by=<machine uid>` and, once Ready, given the
 * Machine's spec labels, annotations and taints plus `cluster.k8s.io/machine`; the Machine's
 * `status.nodeRef`, `status.versions.kubelet` and mirrored `Ready` condition; the
 * `machine.node.joined` / `machine.node.lost` follow-ups once per transition.
 *
 * The mirror is the Machine's state and is written whatever happens to the follow-up: rollouts
 * count a linked Machine ready by it, so a sink outage must not hold it back (it stalled a
 * MachineDeployment rollout whose Node registered before it reported Ready). The transition is
 * read from the mirror, so the follow-up's claim goes in the same patch as the mirror; a send
 * that fails leaves the claim marked `failedAt`, and a redelivery finds it there (`unsent`) and
 * sends it again after emitOnce's hold. A claim superseded by a newer transition of the Node
 * before it could be sent is not sent: the newer one is.
 */
import { buildFollowUp, FollowUpType } from '../../events/followup.js';
import { emitOnce, sendFailed } from '../../shared/machine/emissions.js';
import { machineRef, type Machine } from '../../shared/machine/types.js';
import { patchNode } from '../../shared/node/api.js';
import { nodeWrite } from '../../shared/node/merge.js';
import {
  announcement,
  deletedCondition,
  machineReady,
  nodeReady,
  staleReading,
  transition,
  withReady,
  type Announcement,
} from '../../shared/node/ready.js';
import { machineStatus } from '../../shared/node/status.js';
import type { Node } from '../../shared/node/types.js';
import type { Logger } from '../../shared/runtime/log.js';
import type { NodeDeps } from './deps.js';

export const FUNCTION_NAME = 'node';
const MACHINE_TYPE = { apiVersion: 'cluster.k8s.io/v1alpha1', kind: 'Machine' };

export interface Trace {
  traceparent?: string;
}

const ctxOf = (deps: NodeDeps, t: Trace) => ({ function: FUNCTION_NAME, traceparent: t.traceparent, overrides: deps.ceOverrides });

const followUpOf = (a: Announcement) => (a.type === 'joined' ? FollowUpType.nodeJoined : FollowUpType.nodeLost);

/** The Node's current readiness, claimed with the mirror earlier but not sent (its send failed). */
function unsent(m: Machine, node: Node): Announcement | undefined {
  const a = announcement(node);
  return sendFailed(m, followUpOf(a), a.key) ? a : undefined;
}

/** Links `node` to `m` and mirrors its readiness; returns what happened, for the log line. */
export async function link(deps: NodeDeps, m: Machine, node: Node, t: Trace, log: Logger): Promise<string> {
  const did: string[] = [];
  const ready = nodeReady(node);
  const l = log.with({ machine: `${m.metadata.namespace}/${m.metadata.name}`, node: node.metadata.name, nodeReady: ready.status });
  // Read before a newer reading was mirrored: that one's delivery wrote what holds; nothing to do.
  if (staleReading(m, node)) {
    l.info('stale node reading', { mirrored: machineReady(m)?.status });
    return 'stale Node reading: the Machine mirrors a newer one';
  }

  // 1. The Node: ours to label from now on; the Machine's spec metadata once it is Ready.
  const w = nodeWrite(node, m, ready.status === 'True');
  if (w) {
    await patchNode(deps.machines.kube, node, w);
    did.push(w.specCopied ? 'node labels/annotations/taints updated' : 'node labelled');
    // machine-controller's Event for this write (pkg/controller/machine/controller.go).
    if (w.specCopied)
      deps.machines.recordEventAsync(
        { ...MACHINE_TYPE, ...m },
        'Normal',
        'LabelsAnnotationsTaintsUpdated',
        'Successfully updated labels/annotations/taints',
        (e) => l.warn('recording an Event failed', { error: e.message }),
      );
  }

  // 2. The Machine's status (nodeRef, kubelet version, the mirrored Ready condition), with the
  //    claim of the follow-up its transition calls for, or of one claimed before and not sent.
  const status = machineStatus(m, node, new Date(deps.now()).toISOString());
  const tr = transition(m, node) ?? unsent(m, node);
  if (tr) {
    const nodeRef = { name: node.metadata.name, uid: node.metadata.uid };
    const ctx = ctxOf(deps, t);
    const kubeletVersion = node.status?.nodeInfo?.kubeletVersion;
    const r = await emitOnce(
      deps.machines,
      deps.sink,
      m,
      {
        type: followUpOf(tr),
        key: tr.key,
        event: () =>
          tr.type === 'joined'
            ? buildFollowUp(
                FollowUpType.nodeJoined,
                { machine: machineRef(m), node: nodeRef, ...(kubeletVersion ? { kubeletVersion } : {}) },
                ctx,
              )
            : buildFollowUp(
                FollowUpType.nodeLost,
                { machine: machineRef(m), node: nodeRef, reason: tr.reason, ...(tr.message ? { message: tr.message } : {}) },
                ctx,
              ),
      },
      status ?? {},
    );
    if (r.sent) did.push(`machine.node.${tr.type}`);
  } else if (status) {
    await deps.machines.patchStatus(m, status, m.metadata.resourceVersion);
  }
  if (status)
    did.push(
      `machine status (${Object.keys(status)
        .filter((k) => k !== 'lastUpdated')
        .join(', ')})`,
    );
  l.info('node reconciled', { did });
  return did.length ? did.join('; ') : 'unchanged';
}

/**
 * The linked Node object is gone: `machine.node.lost` if the Machine's mirror said Ready, and
 * the mirror set to Unknown (NodeDeleted). The nodeRef stays: it names the Node the Machine
 * had (machine-controller deletes Nodes by it), and a Machine with a nodeRef counts as ready
 * only through its Node, so the VMI alone cannot make it ready again.
 */
export async function markNodeDeleted(deps: NodeDeps, m: Machine, nodeName: string, t: Trace, log: Logger): Promise<string> {
  const uid = (m.status?.nodeRef as { uid?: string } | undefined)?.uid ?? '';
  const key = `${uid}/deleted`;
  const prev = machineReady(m);
  const mirrored = prev?.status === 'Unknown' && prev.reason === 'NodeDeleted';
  const now = new Date(deps.now()).toISOString();
  // As in link(): the mirror is written with the claim, whatever becomes of the send.
  const status = mirrored ? {} : { conditions: withReady(m, deletedCondition(nodeName, now)), lastUpdated: now };
  let sent = false;
  if (prev?.status === 'True' || (mirrored && sendFailed(m, FollowUpType.nodeLost, key))) {
    const r = await emitOnce(
      deps.machines,
      deps.sink,
      m,
      {
        type: FollowUpType.nodeLost,
        key,
        event: () =>
          buildFollowUp(
            FollowUpType.nodeLost,
            { machine: machineRef(m), node: { name: nodeName, uid }, reason: 'Deleted', message: `Node ${nodeName} was deleted` },
            ctxOf(deps, t),
          ),
      },
      status,
    );
    sent = r.sent;
  } else if (mirrored) {
    return 'unchanged';
  } else {
    await deps.machines.patchStatus(m, status, m.metadata.resourceVersion);
  }
  log.info('node deleted', { machine: `${m.metadata.namespace}/${m.metadata.name}`, node: nodeName, followUpSent: sent });
  return `${sent ? 'machine.node.lost; ' : ''}Ready=Unknown (NodeDeleted)`;
}
