/**
 * The live table of `npm start`: one row per Machine with its phase, image import progress,
 * VMI phase, address and Node, read from the API (level-based, like everything else).
 */
import type { KubeClient } from '../shared/kube/rest.js';
import { LABEL_MACHINE_UID, LABEL_MANAGED_BY, MANAGED_BY_VALUE } from '../shared/constants.js';

interface Obj {
  metadata: { name: string; namespace: string; uid: string; labels?: Record<string, string>; deletionTimestamp?: string };
  status?: any;
}

export interface Row {
  machine: string;
  phase: string;
  import: string;
  vmi: string;
  ip: string;
  /** `status.nodeRef.name` (the node function's link), with `(NotReady)` when its mirrored Ready is not True. */
  node: string;
}

export async function readRows(kube: KubeClient): Promise<Row[]> {
  const ours = `${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE}`;
  const [machines, dvs, vmis] = await Promise.all([
    kube.request<{ items: Obj[] }>('GET', '/apis/cluster.k8s.io/v1alpha1/machines'),
    kube.request<{ items: Obj[] }>('GET', '/apis/cdi.kubevirt.io/v1beta1/datavolumes', { query: { labelSelector: ours } }),
    kube.request<{ items: Obj[] }>('GET', '/apis/kubevirt.io/v1/virtualmachineinstances', { query: { labelSelector: ours } }),
  ]);
  const byUid = (list: Obj[]) => new Map(list.map((o) => [o.metadata.labels?.[LABEL_MACHINE_UID] ?? '', o]));
  const dv = byUid(dvs.items);
  const vmi = byUid(vmis.items);
  return machines.items
    .map((m) => {
      const d = dv.get(m.metadata.uid);
      const v = vmi.get(m.metadata.uid);
      const phase = m.metadata.deletionTimestamp
        ? 'Deleting'
        : m.status?.errorReason
          ? `${m.status.errorReason}`
          : (m.status?.providerStatus?.phase ?? 'Pending');
      return {
        machine: `${m.metadata.namespace}/${m.metadata.name}`,
        phase,
        import: d ? `${d.status?.phase ?? 'Pending'} ${d.status?.progress ?? ''}`.trim() : '-',
        vmi: v?.status?.phase ?? '-',
        ip: m.status?.addresses?.[0]?.address ?? '-',
        node: nodeColumn(m.status),
      };
    })
    .sort((a, b) => a.machine.localeCompare(b.machine));
}

/** The Node a Machine is linked to, as `kubectl get machines` shows it, and whether it is Ready. */
export function nodeColumn(status: any): string {
  const name: string | undefined = status?.nodeRef?.name;
  if (!name) return '-';
  const ready = (Array.isArray(status.conditions) ? status.conditions : []).find((c: any) => c?.type === 'Ready');
  return ready?.status === 'True' ? name : `${name} (NotReady)`;
}

export function formatTable(rows: Row[]): string {
  const head: Row = { machine: 'MACHINE', phase: 'PHASE', import: 'IMAGE IMPORT', vmi: 'VMI', ip: 'IP', node: 'NODE' };
  const all = [head, ...rows];
  const keys = Object.keys(head) as (keyof Row)[];
  const width = Object.fromEntries(keys.map((k) => [k, Math.max(...all.map((r) => r[k].length))])) as Record<keyof Row, number>;
  return all
    .map((r) =>
      keys
        .map((k) => r[k].padEnd(width[k]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
