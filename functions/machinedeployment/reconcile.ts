/**
 * MachineDeployment reconcile (machine-controller's clone of the Deployment controller): one
 * planned step per event — create the new MachineSet `<md>-<hash>`, scale new and old sets within
 * maxSurge / maxUnavailable, delete old sets beyond revisionHistoryLimit, keep the revision
 * annotations and the status. MachineSet events (status changes as Machines become ready or go
 * away) drive the next step.
 */
import type { ApiServerEvent } from '../../events/apiserver.js';
import { apiServerReconciler } from '../../shared/runtime/apiserver-reconciler.js';
import { MACHINE, MACHINE_DEPLOYMENT, MACHINE_SET, collectionPath, objectPath } from '../../shared/kube/paths.js';
import { ApiError, type KubeClient } from '../../shared/kube/rest.js';
import { recordEvent } from '../../shared/kube/events.js';
import { planRollout } from '../../shared/rollout/rolling.js';
import { machineSetsForDeployment } from '../../shared/rollout/ownership.js';
import { observedCounts } from '../../shared/rollout/observe.js';
import type { MachineDeployment, MachineSet } from '../../shared/rollout/types.js';
import type { Machine } from '../../shared/machine/types.js';
import { foreignSet } from '../../shared/machine/foreign.js';
import { ANN_MD_REVISION, ErrorReason } from '../../shared/constants.js';
import { done, type Outcome } from '../../shared/runtime/outcome.js';
import type { Logger } from '../../shared/runtime/log.js';
import { Coalescer } from '../../shared/runtime/coalesce.js';

export const FUNCTION_NAME = 'machinedeployment';
const COMPONENT = 'kubevirt-machine-functions/machinedeployment';
const GROUP_VERSION = 'cluster.k8s.io/v1alpha1';

export interface MachineDeploymentDeps {
  kube: KubeClient;
  now: () => number;
  /** WORKER_NAME: which sets are ours (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** One reconcile per key at a time, at most one more waiting; events meanwhile share it. */
const queue = new Coalescer<Outcome>();

async function deploymentKey(deps: MachineDeploymentDeps, ev: ApiServerEvent): Promise<{ namespace: string; name: string } | undefined> {
  if (ev.kind === 'MachineDeployment') return { namespace: ev.namespace, name: ev.name };
  let ms = ev.object as unknown as MachineSet | undefined;
  if (!ms) ms = await deps.kube.get<MachineSet>(objectPath(MACHINE_SET, ev.namespace, ev.name));
  const ref = ms?.metadata.ownerReferences?.find((o) => o.controller && o.kind === 'MachineDeployment');
  return ref ? { namespace: ev.namespace, name: ref.name } : undefined;
}

export async function reconcileMachineDeployment(
  deps: MachineDeploymentDeps,
  namespace: string,
  name: string,
  log: Logger,
): Promise<Outcome> {
  const md = await deps.kube.get<MachineDeployment>(objectPath(MACHINE_DEPLOYMENT, namespace, name));
  if (!md) return done('machinedeployment gone');
  // Another provider's (or worker's) set: acknowledged, never written, no Machines made for it.
  const foreign = foreignSet(md, deps.env ?? process.env);
  if (foreign) return done(`template not ours: ${foreign}`);
  const [msList, mList] = await Promise.all([
    deps.kube.request<{ items: MachineSet[] }>('GET', collectionPath(MACHINE_SET, namespace)),
    deps.kube.request<{ items: Machine[] }>('GET', collectionPath(MACHINE, namespace)),
  ]);
  const { sets, adopt } = machineSetsForDeployment(md, msList.items);
  const plan = planRollout({ md, machineSets: sets, observed: observedCounts(sets, mList.items, deps.now()) });
  const statusPath = objectPath(MACHINE_DEPLOYMENT, namespace, name, 'status');
  const involved = { ...md, apiVersion: GROUP_VERSION, kind: 'MachineDeployment' };

  if (plan.issues.length) {
    const message = plan.issues.map((i) => i.message).join('; ');
    if ((md.status as Record<string, unknown> | undefined)?.errorMessage !== message) {
      recordEvent(deps.kube, involved, 'Warning', ErrorReason.InvalidConfiguration, message, COMPONENT);
    }
    await deps.kube.patch(statusPath, 'merge', {
      status: { errorReason: ErrorReason.InvalidConfiguration, errorMessage: message, observedGeneration: md.metadata.generation },
    });
    log.warn('invalid machinedeployment', { message });
    return done('invalid');
  }
  for (const a of adopt) {
    await deps.kube.patch(objectPath(MACHINE_SET, namespace, a.machineSet.metadata.name), 'merge', {
      metadata: {
        resourceVersion: a.machineSet.metadata.resourceVersion,
        ownerReferences: [...(a.machineSet.metadata.ownerReferences ?? []), a.ownerReference],
      },
    });
  }
  for (const action of plan.actions) {
    switch (action.type) {
      case 'createMachineSet':
        try {
          await deps.kube.create(collectionPath(MACHINE_SET, namespace), {
            apiVersion: GROUP_VERSION,
            kind: 'MachineSet',
            ...action.machineSet,
          });
          recordEvent(
            deps.kube,
            involved,
            'Normal',
            'MachineSetCreated',
            `Created MachineSet ${action.machineSet.metadata.name}`,
            COMPONENT,
          );
        } catch (e) {
          if (!(e instanceof ApiError && e.status === 409)) throw e; // exists: the next event sees it
        }
        break;
      case 'updateMachineSet': {
        const patch: Record<string, unknown> = {};
        const spec: Record<string, unknown> = {};
        if (action.replicas) spec.replicas = action.replicas.to;
        if (action.minReadySeconds !== undefined) spec.minReadySeconds = action.minReadySeconds;
        if (Object.keys(spec).length) patch.spec = spec;
        if (action.annotations) patch.metadata = { annotations: action.annotations };
        await deps.kube.patch(objectPath(MACHINE_SET, namespace, action.name), 'merge', patch);
        if (action.replicas) log.info('machineset scaled', { machineSet: action.name, from: action.replicas.from, to: action.replicas.to });
        break;
      }
      case 'deleteMachineSet':
        await deps.kube.delete(objectPath(MACHINE_SET, namespace, action.name), 'Background', action.uid);
        break;
      case 'setDeploymentRevision':
        await deps.kube.patch(objectPath(MACHINE_DEPLOYMENT, namespace, name), 'merge', {
          metadata: { annotations: { [ANN_MD_REVISION]: action.revision } },
        });
        break;
    }
  }
  await deps.kube.patch(statusPath, 'merge', { status: { ...(plan.status ?? {}), errorReason: null, errorMessage: null } });
  return done(`${plan.mode}: ${plan.actions.length} actions${plan.complete ? ', complete' : ''}`);
}

export function machineDeploymentReconciler(deps: MachineDeploymentDeps) {
  return apiServerReconciler(
    [
      { apiVersion: GROUP_VERSION, kind: 'MachineDeployment' },
      { apiVersion: GROUP_VERSION, kind: 'MachineSet' },
    ],
    async (ev, log) => {
      const key = await deploymentKey(deps, ev);
      if (!key) return done("not a MachineDeployment's MachineSet");
      return queue.run(`${key.namespace}/${key.name}`, () =>
        reconcileMachineDeployment(deps, key.namespace, key.name, log.with({ machineDeployment: `${key.namespace}/${key.name}` })),
      );
    },
  );
}
