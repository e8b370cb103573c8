/**
 * Scheduling parts of the VMI template: node affinity preset and topology spread constraints.
 */
import { LABEL_MD } from '../constants.js';
import type { NodeAffinityPreset, TopologySpreadConstraintSpec } from '../providerspec/types.js';
import type { Affinity, NodeSelectorRequirement, StringMap, TopologySpreadConstraint } from './types.js';

/** machine-controller's default spread: one VM per host where possible, never blocking. */
export const DEFAULT_TOPOLOGY_KEY = 'kubernetes.io/hostname';
export const DEFAULT_WHEN_UNSATISFIABLE = 'ScheduleAnyway';

/**
 * `affinity` for the VMI template. Always an object: `{}` without a preset, as machine-controller
 * always sets a (possibly empty) `corev1.Affinity`.
 */
export function buildAffinity(preset: NodeAffinityPreset | undefined): Affinity {
  if (!preset) return {};
  // No values → `Exists` (c175998ee); values → `In` with them.
  const expression: NodeSelectorRequirement =
    preset.values.length > 0 ? { key: preset.key, operator: 'In', values: [...preset.values] } : { key: preset.key, operator: 'Exists' };
  if (preset.type === 'soft') {
    return {
      nodeAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [expression] } }],
      },
    };
  }
  return {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [expression] }],
      },
    },
  };
}

/**
 * Topology spread constraints, each selecting the VMs of the same MachineDeployment.
 *
 * `mdSelectorValue` is the final `md` label value, or `""` when there is none: machine-controller
 * builds the selector from `labels["md"]` unconditionally, so a Machine without a known
 * MachineDeployment gets `{md: ""}` (or its own `md` label, if it carries one).
 */
export function buildTopologySpreadConstraints(
  configured: TopologySpreadConstraintSpec[],
  mdSelectorValue: string,
): TopologySpreadConstraint[] {
  const specs: TopologySpreadConstraintSpec[] =
    configured.length > 0 ? configured : [{ maxSkew: 1, topologyKey: DEFAULT_TOPOLOGY_KEY, whenUnsatisfiable: DEFAULT_WHEN_UNSATISFIABLE }];
  return specs.map((c) => ({
    maxSkew: c.maxSkew,
    topologyKey: c.topologyKey,
    whenUnsatisfiable: c.whenUnsatisfiable,
    // A fresh map per constraint: the output is plain JSON and callers may mutate it.
    labelSelector: { matchLabels: { [LABEL_MD]: mdSelectorValue } satisfies StringMap },
  }));
}
