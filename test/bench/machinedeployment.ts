/**
 * MachineDeployment benchmark: a 100-replica MachineDeployment on the local stack (every function
 * under its knative/ ServiceAccount, the event bridge, the KubeVirt/CDI simulator with its default
 * timings, the loopback image server). From the create, polled every 100 ms: when the MachineSet,
 * the Machines, their VirtualMachines and Ready Machines exist (first, half, all), when the
 * MachineDeployment reports them all ready, and the API requests kube-apiserver counted meanwhile.
 */
import { readFileSync } from 'node:fs';
import { startStack, INFRA_NAMESPACE } from '../../dev/stack/index.js';
import { freshNamespace } from '../integration/support/kube.js';
import { isReady, items, machineDeployment, machineSetsOf, machinesOf, paths, sleep } from '../integration/e2e/md-support.js';
import { diff, requestCounts, total } from './api-metrics.js';

const REPLICAS = Number(process.env.MD_BENCH_REPLICAS ?? 100);
const POLL_MS = 100;
const TIMEOUT_MS = 10 * 60_000;
const RESOURCES = ['machinedeployments', 'machinesets', 'machines', 'virtualmachines', 'datavolumes', 'secrets', 'events'];

/** Milliseconds since the start at which a count first reached 1, half and all of REPLICAS. */
class Milestones {
  readonly at: Record<'first' | 'half' | 'all', number | undefined> = { first: undefined, half: undefined, all: undefined };
  see(count: number, t: number): void {
    if (count >= 1) this.at.first ??= t;
    if (count >= Math.ceil(REPLICAS / 2)) this.at.half ??= t;
    if (count >= REPLICAS) this.at.all ??= t;
  }
  get done(): boolean {
    return this.at.all !== undefined;
  }
  toString(): string {
    const f = (v: number | undefined) => (v === undefined ? '—' : `${(v / 1000).toFixed(2)} s`);
    return `first ${f(this.at.first)}, half ${f(this.at.half)}, all ${f(this.at.all)}`;
  }
}

export async function benchMachineDeployment(report: (line: string) => void): Promise<void> {
  const t0Stack = performance.now();
  const stack = await startStack({ kubeconfig: readFileSync(process.env.KUBECONFIG!, 'utf8'), pingIntervalMs: 3_600_000 });
  report(`machinedeployment: local stack started in ${(performance.now() - t0Stack).toFixed(0)} ms`);
  const kube = stack.admin;
  const ns = await freshNamespace('bench-md');
  const machines = new Milestones();
  const vms = new Milestones();
  const ready = new Milestones();
  let setAt: number | undefined;
  let statusAt: number | undefined;
  let own = 0; // the benchmark's own polling requests
  try {
    const before = await requestCounts(kube, RESOURCES);
    const t0 = performance.now();
    await kube.create(paths.mds(ns), machineDeployment(stack.imageUrl, ns, 'bench', { replicas: REPLICAS }));
    while (!(ready.done && statusAt !== undefined)) {
      const [ms, list, vmList, md] = await Promise.all([
        setAt === undefined ? machineSetsOf(kube, ns) : Promise.resolve([]),
        machinesOf(kube, ns),
        vms.done ? Promise.resolve([]) : items(kube, `/apis/kubevirt.io/v1/namespaces/${INFRA_NAMESPACE}/virtualmachines`),
        kube.get(paths.md(ns, 'bench')),
      ]);
      own += 2 + (setAt === undefined ? 1 : 0) + (vms.done ? 0 : 1);
      const t = performance.now() - t0;
      if (ms.length) setAt ??= t;
      machines.see(list.length, t);
      const names = new Set(list.map((m) => m.metadata.name));
      if (!vms.done) vms.see(vmList.filter((vm) => names.has(vm.metadata.name)).length, t);
      ready.see(list.filter(isReady).length, t);
      if (md.status?.readyReplicas === REPLICAS) statusAt ??= t;
      if (t > TIMEOUT_MS) throw new Error(`not done after ${TIMEOUT_MS} ms: Machines ${machines}; VMs ${vms}; Ready ${ready}`);
      await sleep(POLL_MS);
    }
    const counts = diff(await requestCounts(kube, RESOURCES), before);
    own += 1; // the create
    const s = (v: number | undefined) => (v === undefined ? '—' : `${(v / 1000).toFixed(2)} s`);
    report(
      `machinedeployment: ${REPLICAS}-replica MachineDeployment, from create (polled every ${POLL_MS} ms; default simulator timings):`,
    );
    report(`machinedeployment:   MachineSet created       ${s(setAt)}`);
    report(`machinedeployment:   Machines created         ${machines}`);
    report(`machinedeployment:   VirtualMachines created  ${vms}  (${(REPLICAS / (vms.at.all! / 1000)).toFixed(1)} VMs/s)`);
    report(`machinedeployment:   Machines Ready           ${ready}`);
    report(`machinedeployment:   MD status readyReplicas=${REPLICAS} at ${s(statusAt)}`);
    const breakdown = [...counts]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    report(
      `machinedeployment:   API requests meanwhile (counted by kube-apiserver): ${total(counts)}, of which ${own} the benchmark's own create and polling [${breakdown}]`,
    );
  } finally {
    await kube.delete(paths.md(ns, 'bench')).catch(() => false);
    await stack.stop();
  }
}
