/**
 * What the node function writes to a Node, merged into what is there (pure). Following
 * machine-controller (reference §5.2): the label `machine-controller/owned-by=<machine uid>`
 * as soon as the Node is linked; once it is Ready, the Machine's `spec.metadata.labels`,
 * `spec.metadata.annotations` and `spec.taints`, plus the annotation
 * `cluster.k8s.io/machine=<namespace>/<name>` (machine-controller's Event for that write:
 * `LabelsAnnotationsTaintsUpdated`).
 *
 * Only our keys are added or updated: labels, annotations and taints others set stay as they
 * are. A taint is identified by key and effect (corev1 Taint.MatchTaint); `timeAdded` is the
 * API server's and never compared.
 */
import type { Machine } from '../machine/types.js';
import { ANN_MACHINE, LABEL_OWNED_BY } from './match.js';
import type { Node, Taint } from './types.js';

export interface NodeWrite {
  /** Merge patch of metadata (labels/annotations: only changed keys). */
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  /** The whole taint list (a merge patch replaces lists): send with a resourceVersion precondition. */
  taints?: Taint[];
  /** Whether spec labels/annotations/taints changed (machine-controller records an Event then). */
  specCopied: boolean;
}

interface MachineSpecMeta {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  taints?: Taint[];
}

const stringMap = (x: unknown): Record<string, string> =>
  x && typeof x === 'object' && !Array.isArray(x)
    ? Object.fromEntries(Object.entries(x as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'))
    : {};

function taintsOf(x: unknown): Taint[] {
  if (!Array.isArray(x)) return [];
  return x.filter((t): t is Taint => !!t && typeof t.key === 'string' && t.key !== '' && typeof t.effect === 'string' && t.effect !== '');
}

/** Keys of `want` whose value differs on `have`. */
function changed(have: Record<string, string> | undefined, want: Record<string, string>): Record<string, string> | undefined {
  const out = Object.fromEntries(Object.entries(want).filter(([k, v]) => have?.[k] !== v));
  return Object.keys(out).length ? out : undefined;
}

/** `have` with every taint of `want` added or its value updated; undefined when nothing changes. */
export function mergeTaints(have: Taint[], want: Taint[]): Taint[] | undefined {
  const out = have.map((t) => ({ ...t }));
  let dirty = false;
  for (const w of want) {
    const i = out.findIndex((t) => t.key === w.key && t.effect === w.effect);
    if (i < 0) {
      out.push({ key: w.key, ...(w.value ? { value: w.value } : {}), effect: w.effect });
      dirty = true;
    } else if ((out[i]!.value ?? '') !== (w.value ?? '')) {
      out[i] = { ...out[i]!, value: w.value ?? '' };
      if (!w.value) delete out[i]!.value;
      dirty = true;
    }
  }
  return dirty ? out : undefined;
}

/** The write `node` needs for Machine `m` (Node Ready or not); `undefined` when nothing changes. */
export function nodeWrite(node: Node, m: Machine, ready: boolean): NodeWrite | undefined {
  const spec = (m.spec ?? {}) as MachineSpecMeta;
  const wantLabels: Record<string, string> = { [LABEL_OWNED_BY]: m.metadata.uid };
  const wantAnnotations: Record<string, string> = {};
  let wantTaints: Taint[] = [];
  if (ready) {
    Object.assign(wantLabels, stringMap(spec.metadata?.labels), { [LABEL_OWNED_BY]: m.metadata.uid });
    Object.assign(wantAnnotations, stringMap(spec.metadata?.annotations), { [ANN_MACHINE]: `${m.metadata.namespace}/${m.metadata.name}` });
    wantTaints = taintsOf(spec.taints);
  }
  const labels = changed(node.metadata.labels, wantLabels);
  const annotations = changed(node.metadata.annotations, wantAnnotations);
  const taints = mergeTaints(node.spec?.taints ?? [], wantTaints);
  if (!labels && !annotations && !taints) return undefined;
  const specCopied = !!taints || !!annotations || Object.keys(labels ?? {}).some((k) => k !== LABEL_OWNED_BY);
  const metadata = labels || annotations ? { ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}) } : undefined;
  return { ...(metadata ? { metadata } : {}), ...(taints ? { taints } : {}), specCopied };
}
