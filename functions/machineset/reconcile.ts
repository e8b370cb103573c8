/**
 * MachineSet reconcile (machine-controller's machineset controller): keep `spec.replicas`
 * Machines, created from the template with `generateName: <ms>-` and a controller reference,
 * deleted in delete-policy order; status from the Machines. Triggered by MachineSet events and
 * by Machine events (a Machine's readiness or deletion changes its MachineSet's status).
 */
import type { ApiServerEvent } from '../../events/apiserver.js';
import { apiServerReconciler } from '../../shared/runtime/apiserver-reconciler.js';
import { MACHINE, MACHINE_SET, collectionPath, objectPath } from '../../shared/kube/paths.js';
import { ApiError, type KubeClient } from '../../shared/kube/rest.js';
import { recordEvent } from '../../shared/kube/events.js';
import { planMachineSet } from '../../shared/rollout/machineset.js';
import { observationsOf } from '../../shared/rollout/observe.js';
import type { MachineSet } from '../../shared/rollout/types.js';
import type { Machine } from '../../shared/machine/types.js';
import { foreignSet } from '../../shared/machine/foreign.js';
import { ErrorReason } from '../../shared/constants.js';
import { done, wait, type Outcome } from '../../shared/runtime/outcome.js';
import type { Logger } from '../../shared/runtime/log.js';
import { Coalescer } from '../../shared/runtime/coalesce.js';

export const FUNCTION_NAME = 'machineset';
const COMPONENT = 'kubevirt-machine-functions/machineset';
const GROUP_VERSION = 'cluster.k8s.io/v1alpha1';

export interface MachineSetDeps {
  kube: KubeClient;
  now: () => number;
  /** WORKER_NAME: which sets are ours (default process.env). */
  env?: NodeJS.ProcessEnv;
  random?: () => number;
}

/** One reconcile per key at a time, at most one more waiting; events meanwhile share it. */
const queue = new Coalescer<Outcome>();

/** The MachineSet an event is about: the object itself, or a Machine's controlling MachineSet. */
async function machineSetKey(deps: MachineSetDeps, ev: ApiServerEvent): Promise<{ namespace: string; name: string } | undefined> {
  if (ev.kind === 'MachineSet') return { namespace: ev.namespace, name: ev.name };
  let m = ev.object as unknown as Machine | undefined;
  if (!m) m = await deps.kube.get<Machine>(objectPath(MACHINE, ev.namespace, ev.name));
  const ref = m?.metadata.ownerReferences?.find((o) => o.controller && o.kind === 'MachineSet');
  return ref ? { namespace: ev.namespace, name: ref.name } : undefined;
}

export async function reconcileMachineSet(deps: MachineSetDeps, namespace: string, name: string, log: Logger): Promise<Outcome> {
  const ms = await deps.kube.get<MachineSet>(objectPath(MACHINE_SET, namespace, name));
  if (!ms) return done('machineset gone');
  if (ms.metadata.deletionTimestamp) return done('machineset being deleted: its Machines go with it (ownerReferences)');
  // Another provider's (or worker's) set: acknowledged, never written, no Machines made for it.
  const foreign = foreignSet(ms, deps.env ?? process.env);
  if (foreign) return done(`template not ours: ${foreign}`);
  const list = await deps.kube.request<{ items: Machine[] }>('GET', collectionPath(MACHINE, namespace));
  const plan = planMachineSet({
    machineSet: ms,
    machines: list.items,
    observations: observationsOf(list.items),
    now: deps.now(),
    ...(deps.random ? { random: deps.random } : {}),
  });
  const statusPath = objectPath(MACHINE_SET, namespace, name, 'status');
  const warn = (reason: string, message: string) =>
    recordEvent(deps.kube, { ...ms, apiVersion: GROUP_VERSION, kind: 'MachineSet' }, 'Warning', reason, message, COMPONENT);

  if (plan.issues.length) {
    const message = plan.issues.map((i) => i.message).join('; ');
    if (ms.status && (ms.status as Record<string, unknown>).errorMessage !== message) warn(ErrorReason.InvalidConfiguration, message);
    await deps.kube.patch(statusPath, 'merge', {
      status: { errorReason: ErrorReason.InvalidConfiguration, errorMessage: message, observedGeneration: ms.metadata.generation },
    });
    log.warn('invalid machineset', { message });
    return done('invalid');
  }
  for (const a of plan.adopt) {
    await deps.kube.patch(objectPath(MACHINE, namespace, a.machine.metadata.name), 'merge', {
      metadata: {
        resourceVersion: a.machine.metadata.resourceVersion,
        ownerReferences: [...(a.machine.metadata.ownerReferences ?? []), a.ownerReference],
      },
    });
  }
  for (const c of plan.create) await deps.kube.create(collectionPath(MACHINE, namespace), c);
  for (const d of plan.delete) {
    try {
      await deps.kube.delete(objectPath(MACHINE, namespace, d.metadata.name), 'Background', d.metadata.uid);
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 409)) throw e; // 409: a different Machine of that name now
    }
  }
  // terminatingReplicas (as Kubernetes 1.33 reports on ReplicaSets): its Machines being deleted.
  // Not in machine-controller's status, but it makes a finished deletion change the MachineSet,
  // and that event is what lets the machinedeployment function take its next surge-bounded step.
  const status: Record<string, unknown> = {
    ...(plan.status ?? {}),
    terminatingReplicas: plan.terminating,
    errorReason: null,
    errorMessage: null,
  };
  if (plan.error) {
    Object.assign(status, { errorReason: ErrorReason.InvalidConfiguration, errorMessage: plan.error });
    warn(ErrorReason.InvalidConfiguration, plan.error);
  }
  await deps.kube.patch(statusPath, 'merge', { status });
  if (plan.create.length || plan.delete.length) {
    log.info('machineset scaled', {
      machineSet: `${namespace}/${name}`,
      created: plan.create.length,
      deleted: plan.delete.map((m) => m.metadata.name),
    });
  }
  // A Machine becomes available minReadySeconds after it is ready: look again then.
  if (plan.requeueAfterSeconds !== undefined && plan.requeueAfterSeconds <= 60)
    return wait(`re-check availability in ${plan.requeueAfterSeconds}s`);
  return done(`${plan.create.length} created, ${plan.delete.length} deleted`);
}

export function machineSetReconciler(deps: MachineSetDeps) {
  return apiServerReconciler(
    [
      { apiVersion: GROUP_VERSION, kind: 'MachineSet' },
      { apiVersion: GROUP_VERSION, kind: 'Machine' },
    ],
    async (ev, log) => {
      const key = await machineSetKey(deps, ev);
      if (!key) return done("not a MachineSet's Machine");
      return queue.run(`${key.namespace}/${key.name}`, () =>
        reconcileMachineSet(deps, key.namespace, key.name, log.with({ machineSet: `${key.namespace}/${key.name}` })),
      );
    },
  );
}
