/**
 * Which MachineSets a MachineDeployment manages (machine-controller's
 * `getMachineSetsForDeployment`): those its selector matches and that it controls, plus matching
 * orphans, which it adopts.
 */
import { matchesParsed, parseSelector } from './labels.js';
import { deploymentControllerRef } from './new-machineset.js';
import { withDefaults } from './defaults.js';
import type { MachineDeployment, MachineSet, OwnerReference } from './types.js';

export interface DeploymentSets {
  /** The MD's MachineSets, adopted orphans included: the planner's `machineSets`. */
  sets: MachineSet[];
  /** Orphans among `sets` that need the controller reference added. */
  adopt: { machineSet: MachineSet; ownerReference: OwnerReference }[];
}

/**
 * Filters the namespace's MachineSets. An empty or malformed selector selects nothing here (not
 * everything, as a bare label selector would): a stray MD must not grab every MachineSet. A set
 * controlled by the MD whose labels no longer match is left out, as upstream does.
 */
export function machineSetsForDeployment(md: MachineDeployment, all: readonly MachineSet[]): DeploymentSets {
  const d = withDefaults(md);
  const selector = parseSelector(d.spec.selector);
  const out: DeploymentSets = { sets: [], adopt: [] };
  if (!selector.ok || selector.everything) return out;
  for (const ms of all) {
    if ((ms.metadata.namespace ?? 'default') !== d.metadata.namespace) continue;
    if (!matchesParsed(selector, ms.metadata.labels)) continue;
    const ref = ms.metadata.ownerReferences?.find((o) => o.controller === true);
    if (!ref) {
      out.adopt.push({ machineSet: ms, ownerReference: deploymentControllerRef(d) });
      out.sets.push(ms);
      continue;
    }
    const controlled =
      ref.uid && d.metadata.uid ? ref.uid === d.metadata.uid : ref.kind === 'MachineDeployment' && ref.name === d.metadata.name;
    if (controlled) out.sets.push(ms);
  }
  return out;
}
