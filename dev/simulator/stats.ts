/**
 * Counters the simulator exposes through stats(): what it did, and how often it had to recover.
 */
export interface SimulatorStats {
  /** Objects currently in the caches. */
  cached: { virtualMachines: number; virtualMachineInstances: number; dataVolumes: number };
  /** Events applied to the caches (list items and watch events). */
  eventsApplied: number;
  /** Full lists (first sync, 410 Gone, after errors, or every poll). */
  relists: number;
  /** List/watch failures that were retried with backoff. */
  watchErrors: number;
  /** Status writes (DV /status, VM /status, VMI main resource). */
  statusWrites: number;
  /** Objects the simulator created / deleted / adopted. */
  dataVolumesCreated: number;
  dataVolumesAdopted: number;
  vmisCreated: number;
  objectsDeleted: number;
  /** Importer attempts (every pod start and restart) and their outcomes. */
  importAttempts: number;
  importsSucceeded: number;
  importFailures: number;
  /** CDI importer processes started (http sources; every start and restart), and their total run time. */
  importerProcesses: number;
  importerMs: number;
  /** VMIs that reached Running; interface addresses currently allocated. */
  vmisRunning: number;
  ipsAllocated: number;
  /** Reconcile errors retried by the work queues. */
  reconcileErrors: number;
}

export type Counter = Exclude<keyof SimulatorStats, 'cached' | 'ipsAllocated'>;

export class StatsRecorder {
  private readonly counts = new Map<Counter, number>();

  inc(c: Counter, by = 1): void {
    this.counts.set(c, (this.counts.get(c) ?? 0) + by);
  }

  snapshot(cached: SimulatorStats['cached'], ipsAllocated: number): SimulatorStats {
    const g = (c: Counter): number => this.counts.get(c) ?? 0;
    return {
      cached,
      eventsApplied: g('eventsApplied'),
      relists: g('relists'),
      watchErrors: g('watchErrors'),
      statusWrites: g('statusWrites'),
      dataVolumesCreated: g('dataVolumesCreated'),
      dataVolumesAdopted: g('dataVolumesAdopted'),
      vmisCreated: g('vmisCreated'),
      objectsDeleted: g('objectsDeleted'),
      importAttempts: g('importAttempts'),
      importsSucceeded: g('importsSucceeded'),
      importFailures: g('importFailures'),
      importerProcesses: g('importerProcesses'),
      importerMs: g('importerMs'),
      vmisRunning: g('vmisRunning'),
      ipsAllocated,
      reconcileErrors: g('reconcileErrors'),
    };
  }
}
