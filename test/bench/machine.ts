/**
 * Machine function benchmark: API requests per Machine from the add event to "VM created and
 * status set" (counted by kube-apiserver itself), and latency percentiles at concurrency 1 and
 * 16 through the real function server (bundle under functions-framework):
 *  - event → VM: from sending the add event until a watch on the infra namespace delivers the
 *    VirtualMachine's ADDED event (the VM exists in the API; the watch's delivery is included);
 *  - event → answered: until the function's HTTP answer, i.e. also the userdata Secret (owned
 *    by the VM, so created after it), the follow-up CloudEvent and the response.
 */
import { adminKube } from '../integration/support/admin.js';
import { listWatch } from '../../dev/kube/watch.js';
import { freshNamespace } from '../integration/support/kube.js';
import { startMachineEnv, exampleProviderSpec, machineObject } from '../integration/support/machine-env.js';
import { post, resourceEvent } from '../integration/support/apiserver-events.js';
import { requestCounts, diff, total } from './api-metrics.js';

const RESOURCES = [
  'machines',
  'machinesets',
  'virtualmachines',
  'datavolumes',
  'secrets',
  'events',
  'storageprofiles',
  'storageclasses',
  'configmaps',
];

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export async function benchMachine(report: (line: string) => void): Promise<void> {
  // The function's default (golden images); `IMAGE_CACHE=off npm run bench -- machine` measures without.
  const imageCache = process.env.IMAGE_CACHE ?? '';
  const env = await startMachineEnv(imageCache ? { extraEnv: { IMAGE_CACHE: imageCache } } : {});
  report(`IMAGE_CACHE=${imageCache || '(unset: on)'}`);
  const ns = await freshNamespace('bench');
  const kube = adminKube();
  const { value } = exampleProviderSpec('kubevirt-machinedeployment.yaml', {
    kubeconfigB64: env.infraKubeconfigB64,
    kubeconfigRaw: env.saKubeconfig,
    imageUrl: env.imageUrl,
  });
  let seq = 0;
  const makeMachines = async (n: number) => {
    const out: any[] = [];
    for (let i = 0; i < n; i++)
      out.push(await kube.create(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machines`, machineObject(`bench-${seq++}`, ns, value)));
    return out;
  };
  try {
    // warm-up: connections, StorageProfile cache, JIT
    for (const m of await makeMachines(5)) await post(env.fn.url, resourceEvent('add', m));

    // 1. requests per Machine, server-side counts, sequential so nothing else interleaves
    const n = 50;
    const machines = await makeMachines(n);
    const before = await requestCounts(kube, RESOURCES);
    for (const m of machines) {
      const s = await post(env.fn.url, resourceEvent('add', m));
      if (s !== 200) throw new Error(`add answered ${s}: ${env.fn.logs.at(-1)}`);
    }
    const counts = diff(await requestCounts(kube, RESOURCES), before);
    const perMachine = total(counts) / n;
    // The span ends at "VM created and status set"; the Normal Event is recorded after
    // it, without waiting (as client-go's recorder does), so it is shown on its own.
    const events = [...counts].filter(([k]) => k.endsWith(' events')).reduce((a, [, v]) => a + v, 0) / n;
    const breakdown = [...counts]
      .sort()
      .map(([k, v]) => `${k} ${(v / n).toFixed(2)}`)
      .join(', ');
    report(
      `machine: API requests per Machine, add → VM created + status set (+ userdata Secret): ${(perMachine - events).toFixed(2)}; ` +
        `with the Kubernetes Event recorded after it: ${perMachine.toFixed(2)} [${breakdown}] (n=${n}, counted by kube-apiserver)`,
    );

    // 2. latency at concurrency 1 and 16
    const vmSeen = new Map<string, number>();
    const stopWatch = new AbortController();
    const watch = listWatch(kube, {
      path: `/apis/kubevirt.io/v1/namespaces/${env.infraNamespace}/virtualmachines`,
      onEvent: (type, vm) => {
        if (type === 'ADDED' && !vmSeen.has(vm.metadata.name)) vmSeen.set(vm.metadata.name, performance.now());
      },
      log: () => {},
      signal: stopWatch.signal,
    });
    await watch.ready;
    try {
      for (const [concurrency, count] of [
        [1, 300],
        [16, 160],
      ] as const) {
        const ms = await makeMachines(count);
        const sent = new Map<string, number>();
        const answered: number[] = [];
        let next = 0;
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            while (next < ms.length) {
              const m = ms[next++];
              const t = performance.now();
              sent.set(m.metadata.name, t);
              const s = await post(env.fn.url, resourceEvent('add', m));
              answered.push(performance.now() - t);
              if (s !== 200) throw new Error(`add answered ${s}`);
            }
          }),
        );
        const wall = performance.now() - t0;
        const deadline = Date.now() + 5000;
        while ([...sent.keys()].some((n) => !vmSeen.has(n)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        const toVm = [...sent].map(([n, t]) => (vmSeen.get(n) ?? Number.NaN) - t).sort((a, b) => a - b);
        if (toVm.some(Number.isNaN)) throw new Error('the watch did not deliver every VM within 5 s');
        const inFn = env.fn.logs
          .slice(-count)
          .map((l) => JSON.parse(l).durationMs as number)
          .filter((x) => typeof x === 'number')
          .sort((a, b) => a - b);
        answered.sort((a, b) => a - b);
        const rate = `n=${count}, ${(count / (wall / 1000)).toFixed(0)} Machines/s`;
        report(
          `machine: event → VM latency at concurrency ${concurrency}: p50 ${pct(toVm, 50).toFixed(1)} ms, p99 ${pct(toVm, 99).toFixed(1)} ms, max ${toVm.at(-1)!.toFixed(1)} ms (${rate}; VM seen by a watch)`,
        );
        report(
          `machine:   event → answered at concurrency ${concurrency}: p50 ${pct(answered, 50).toFixed(1)} ms, p99 ${pct(answered, 99).toFixed(1)} ms, max ${answered.at(-1)!.toFixed(1)} ms (VM, then Secret, follow-up, response)`,
        );
        report(`machine:   time inside the function at concurrency ${concurrency}: p50 ${pct(inFn, 50)} ms, p99 ${pct(inFn, 99)} ms`);
      }
    } finally {
      stopWatch.abort();
      await watch.done;
    }
  } finally {
    await env.stop();
  }
}
