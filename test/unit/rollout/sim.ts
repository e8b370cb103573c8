/**
 * An in-memory control plane for the planners: each step runs the MachineDeployment planner,
 * applies its actions, runs every MachineSet planner, applies theirs, then lets time pass —
 * Machines created in a step are Ready in the next, deletions take `deleteSteps` steps.
 */
import { seededRandom } from '../../../shared/rollout/delete-policy.js';
import { planMachineSet, viewMachineSet } from '../../../shared/rollout/machineset.js';
import type { MachineObservation } from '../../../shared/rollout/readiness.js';
import { planRollout, type MachineSetObservation, type RolloutPlan } from '../../../shared/rollout/rolling.js';
import type { Machine, MachineDeployment, MachineSet } from '../../../shared/rollout/types.js';
import { iso, T0 } from './helpers.js';

export interface SimOptions {
  /** Steps a deleted Machine lingers (with a deletionTimestamp) before it is gone; 0 = at once. */
  deleteSteps?: number;
  /** Report Machines being deleted to the rollout planner (`observed.terminating`). */
  reportTerminating?: boolean;
  /** Simulated seconds per step. */
  stepSeconds?: number;
  seed?: number;
}

interface SimMachine {
  m: Machine;
  readyAt?: number;
  goneAtStep?: number;
}

export interface StepResult {
  plan: RolloutPlan;
  /** Machines in existence after the step's actions (including ones being deleted). */
  existing: number;
  /** Ready Machines not being deleted, after the step's actions. */
  ready: number;
  /** Live Machines per MachineSet name. */
  perSet: Record<string, number>;
}

export class Sim {
  md: MachineDeployment;
  sets: MachineSet[] = [];
  machines: SimMachine[] = [];
  now = T0;
  stepNo = 0;
  private seq = 0;
  private readonly random: () => number;
  private readonly opts: Required<SimOptions>;

  constructor(md: MachineDeployment, opts: SimOptions = {}) {
    this.md = structuredClone(md);
    this.opts = { deleteSteps: 0, reportTerminating: false, stepSeconds: 10, seed: 1, ...opts };
    this.random = seededRandom(this.opts.seed);
  }

  private observations(): Record<string, MachineObservation> {
    const out: Record<string, MachineObservation> = {};
    for (const s of this.machines) if (s.readyAt !== undefined) out[s.m.metadata.name] = { readySince: iso(s.readyAt) };
    return out;
  }

  private machineList(): Machine[] {
    return this.machines.map((s) => s.m);
  }

  /** The MachineSet controller's view, written into each set's status (as the MS function would). */
  private refreshSetStatuses(): Record<string, MachineSetObservation> {
    const observed: Record<string, MachineSetObservation> = {};
    for (const ms of this.sets) {
      const view = viewMachineSet(ms, this.machineList(), this.observations(), this.now);
      ms.status = view.status;
      observed[ms.metadata.name] = {
        replicas: view.status.replicas,
        ready: view.status.readyReplicas,
        available: view.status.availableReplicas,
        terminating: view.terminating.length,
      };
    }
    return observed;
  }

  private deleteMachine(m: Machine): void {
    const s = this.machines.find((x) => x.m === m)!;
    if (this.opts.deleteSteps === 0) this.machines = this.machines.filter((x) => x !== s);
    else if (!m.metadata.deletionTimestamp) {
      m.metadata.deletionTimestamp = iso(this.now);
      s.goneAtStep = this.stepNo + this.opts.deleteSteps;
    }
  }

  private applyRollout(plan: RolloutPlan): void {
    for (const a of plan.actions) {
      if (a.type === 'createMachineSet') {
        const ms = structuredClone(a.machineSet);
        ms.metadata.uid = `${ms.metadata.name}-uid`;
        ms.metadata.creationTimestamp = iso(this.now);
        ms.metadata.generation = 1;
        this.sets.push(ms);
      } else if (a.type === 'updateMachineSet') {
        const ms = this.sets.find((s) => s.metadata.name === a.name)!;
        if (a.replicas) ms.spec.replicas = a.replicas.to;
        if (a.annotations) ms.metadata.annotations = { ...(ms.metadata.annotations ?? {}), ...a.annotations };
        if (a.minReadySeconds !== undefined) ms.spec.minReadySeconds = a.minReadySeconds;
      } else if (a.type === 'deleteMachineSet') {
        const ms = this.sets.find((s) => s.metadata.name === a.name)!;
        this.sets = this.sets.filter((s) => s !== ms);
        // Garbage collection of its Machines.
        for (const s of [...this.machines])
          if (s.m.metadata.ownerReferences?.some((o) => o.uid === ms.metadata.uid)) this.deleteMachine(s.m);
      } else {
        this.md.metadata.annotations = {
          ...(this.md.metadata.annotations ?? {}),
          'machinedeployment.clusters.k8s.io/revision': a.revision,
        };
      }
    }
    if (plan.status) this.md.status = plan.status;
  }

  private runMachineSets(): void {
    for (const ms of this.sets) {
      const plan = planMachineSet({
        machineSet: ms,
        machines: this.machineList(),
        observations: this.observations(),
        now: this.now,
        random: this.random,
      });
      if (plan.issues.length || plan.error) throw new Error(`MachineSet ${ms.metadata.name}: ${plan.error ?? plan.issues[0].message}`);
      for (const c of plan.create) {
        const m = {
          ...structuredClone(c),
          metadata: {
            ...structuredClone(c.metadata),
            name: `${c.metadata.generateName}${this.seq++}`,
            uid: `m${this.seq}`,
            resourceVersion: '1',
            creationTimestamp: iso(this.now),
          },
          status: {},
        } as Machine;
        this.machines.push({ m });
      }
      for (const d of plan.delete) this.deleteMachine(d);
    }
  }

  /** Counts after the step's actions, before time passes. */
  private counts(plan: RolloutPlan): StepResult {
    const live = this.machines.filter((s) => !s.m.metadata.deletionTimestamp);
    const perSet: Record<string, number> = {};
    for (const s of live) {
      const owner = s.m.metadata.ownerReferences?.[0]?.name ?? '';
      perSet[owner] = (perSet[owner] ?? 0) + 1;
    }
    return { plan, existing: this.machines.length, ready: live.filter((s) => s.readyAt !== undefined).length, perSet };
  }

  /** One reconcile of everything, then time passes. */
  step(): StepResult {
    const observed = this.refreshSetStatuses();
    const plan = planRollout({ md: this.md, machineSets: this.sets, ...(this.opts.reportTerminating ? { observed } : {}) });
    if (plan.issues.length) throw new Error(plan.issues[0].message);
    this.applyRollout(plan);
    this.runMachineSets();
    const result = this.counts(plan);
    // Time passes: new Machines become ready, lingering deletions finish.
    this.stepNo++;
    this.now += this.opts.stepSeconds * 1000;
    for (const s of this.machines) {
      if (s.readyAt === undefined && !s.m.metadata.deletionTimestamp) {
        s.readyAt = this.now;
        s.m.status = { ...(s.m.status ?? {}), providerStatus: { phase: 'Ready' }, lastUpdated: iso(this.now) };
      }
    }
    this.machines = this.machines.filter((s) => s.goneAtStep === undefined || s.goneAtStep > this.stepNo);
    return result;
  }

  /** Steps until a step plans nothing and the rollout is complete; every result goes to `check`. */
  converge(check: (r: StepResult) => void = () => {}, maxSteps = 300): number {
    for (let i = 1; i <= maxSteps; i++) {
      const r = this.step();
      check(r);
      if (
        r.plan.complete &&
        r.plan.actions.length === 0 &&
        this.machines.every((s) => s.readyAt !== undefined && !s.m.metadata.deletionTimestamp)
      )
        return i;
    }
    throw new Error(`no convergence in ${maxSteps} steps`);
  }

  /** Live Machines per MachineSet name. */
  perSet(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.machines) {
      if (s.m.metadata.deletionTimestamp) continue;
      const owner = s.m.metadata.ownerReferences?.[0]?.name ?? '';
      out[owner] = (out[owner] ?? 0) + 1;
    }
    return out;
  }
}
