/**
 * One Machine and its Node, brought in line (machine-controller's node handling, reference
 * §5.2): the Node labelled `machine-controller/owned-by=<machine uid>` and, once Ready, given the
 * Machine's spec labels, annotations and taints plus `cluster.k8s.io/machine`; the Machine's
 * `status.nodeRef`, `status.versions.kubelet` and mirrored `Ready` condition; the
 * `machine.node.joined` / `machine.node.lost` follow-ups once per transition.
 *
 * Order matters for "once per transition": the transition is read from the Machine's mirror of
 * the Node, so the follow-up is claimed and sent first and the mirror written after. A failed
 * send leaves the mirror as it was (the redelivery sees the same transition); a failed mirror
 * write after a sent follow-up finds the claim on redelivery and only writes the mirror.
 */
import { buildFollowUp, FollowUpType } from '../../events/followup.js';
import { emitOnce } from '../../shared/machine/emissions.js';
import { machineRef, type Machine } from '../../shared/machine/types.js';
import { patchNode } from '../../shared/node/api.js';
import { nodeWrite } from '../../shared/node/merge.js';
import { deletedCondition, machineReady, nodeReady, transition, withReady } from '../../shared/node/ready.js';
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

/** Links `node` to `m` and mirrors its readiness; returns what happened, for the log line. */
export async function link(deps: NodeDeps, m: Machine, node: Node, t: Trace, log: Logger): Promise<string> {
  const did: string[] = [];
  const ready = nodeReady(node);
  const l = log.with({ machine: `${m.metadata.namespace}/${m.metadata.name}`, node: node.metadata.name, nodeReady: ready.status });

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

  // 2. The follow-up of a readiness transition, before the mirror that defines it.
  let cur = m;
  const tr = transition(m, node);
  const nodeRef = { name: node.metadata.name, uid: node.metadata.uid };
  if (tr) {
    const ctx = ctxOf(deps, t);
    const kubeletVersion = node.status?.nodeInfo?.kubeletVersion;
    const r = await emitOnce(deps.machines, deps.sink, m, {
      type: tr.type === 'joined' ? FollowUpType.nodeJoined : FollowUpType.nodeLost,
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
    });
    cur = r.machine;
    if (r.sent) did.push(`machine.node.${tr.type}`);
  }

  // 3. The Machine's status: nodeRef, kubelet version, the mirrored Ready condition.
  const status = machineStatus(cur, node, new Date(deps.now()).toISOString());
  if (status) {
    await deps.machines.patchStatus(cur, status, cur.metadata.resourceVersion);
    did.push(
      `machine status (${Object.keys(status)
        .filter((k) => k !== 'lastUpdated')
        .join(', ')})`,
    );
  }
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
  const prev = machineReady(m);
  let cur = m;
  let sent = false;
  if (prev?.status === 'True') {
    const r = await emitOnce(deps.machines, deps.sink, m, {
      type: FollowUpType.nodeLost,
      key: `${uid}/deleted`,
      event: () =>
        buildFollowUp(
          FollowUpType.nodeLost,
          { machine: machineRef(m), node: { name: nodeName, uid }, reason: 'Deleted', message: `Node ${nodeName} was deleted` },
          ctxOf(deps, t),
        ),
    });
    cur = r.machine;
    sent = r.sent;
  }
  if (prev?.status === 'Unknown' && prev.reason === 'NodeDeleted') return sent ? 'machine.node.lost' : 'unchanged';
  const now = new Date(deps.now()).toISOString();
  await deps.machines.patchStatus(
    cur,
    { conditions: withReady(cur, deletedCondition(nodeName, now)), lastUpdated: now },
    cur.metadata.resourceVersion,
  );
  log.info('node deleted', { machine: `${m.metadata.namespace}/${m.metadata.name}`, node: nodeName, followUpSent: sent });
  return `${sent ? 'machine.node.lost; ' : ''}Ready=Unknown (NodeDeleted)`;
}
