/**
 * From an infra object back to its Machine, through our ownership labels only.
 */
import { LABEL_MACHINE_NAME, LABEL_MACHINE_NAMESPACE, LABEL_MACHINE_UID } from '../constants.js';
import type { MachineApi } from './api.js';
import type { Machine, MachineRef } from './types.js';

export function machineRefFromLabels(labels: Record<string, string> | undefined): MachineRef | undefined {
  const namespace = labels?.[LABEL_MACHINE_NAMESPACE];
  const name = labels?.[LABEL_MACHINE_NAME];
  const uid = labels?.[LABEL_MACHINE_UID];
  return namespace && name && uid ? { namespace, name, uid } : undefined;
}

/** The live Machine the labels name, or undefined when it is gone or a different Machine now holds the name. */
export async function owningMachine(api: MachineApi, labels: Record<string, string> | undefined): Promise<Machine | undefined> {
  const ref = machineRefFromLabels(labels);
  if (!ref) return undefined;
  const m = await api.get(ref.namespace, ref.name);
  return m && m.metadata.uid === ref.uid ? m : undefined;
}
