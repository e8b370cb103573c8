/**
 * Image benchmark (issue 18): for N Machines of one image (a MachineDeployment of N replicas on
 * the local stack: every function, the event bridge, the simulator running CDI's importer for
 * every http import), the bytes the image server sent and the time from the create until every
 * Machine is Ready — with IMAGE_CACHE=off (each disk imports the image) and on (one golden import,
 * N clones), in the same run. Sizes: IMAGES_BENCH_SIZES (default "10,100"); image size:
 * IMAGES_BENCH_MIB (default 8). Figures, not assertions.
 *
 * Fairness: the runs share one control plane, so each mode removes its Machines (and goldens)
 * before the next starts — a mode run after another's 110 Machines were left behind was up to
 * 10% slower, whichever mode it was. IMAGES_BENCH_ROUNDS (default 1) repeats the pair in
 * alternating order (off,on then on,off …), so drift over the run falls on both modes alike.
 */
import { readFileSync } from 'node:fs';
import { startStack, INFRA_NAMESPACE } from '../../dev/stack/index.js';
import { LABEL_MACHINE_NAMESPACE } from '../../shared/constants.js';
import { rawDisk } from '../../dev/stack/image-server.js';
import { adminKube, freshNamespace } from '../integration/support/kube.js';
import { isReady, machineDeployment, machinesOf, paths, removeDeployments, sleep } from '../integration/e2e/md-support.js';
import { LABEL_GOLDEN, isGoldenDataVolume } from '../../shared/image/golden.js';

const SIZES = (process.env.IMAGES_BENCH_SIZES ?? '10,100')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const IMAGE_BYTES = Number(process.env.IMAGES_BENCH_MIB ?? 8) * 1024 * 1024;
const TIMEOUT_MS = 15 * 60_000;
const POLL_MS = 200;

/**
 * IMAGES_BENCH_CLONE: how CDI clones on the storage of the run (dev/simulator/cdi/clone-strategy.ts).
 * `host-assisted` (default): the stack's storage class has no StorageProfile and there is no
 * VolumeSnapshotClass, so CDI copies through a source and an upload pod. `csi-clone`: a
 * StorageProfile for the example's class publishes `cloneStrategy: csi-clone`, as CDI does for
 * a CSI driver that clones volumes: clones complete without copying.
 */
const CLONE = process.env.IMAGES_BENCH_CLONE === 'csi-clone' ? 'csi-clone' : 'host-assisted';
const STORAGE_CLASS = 'local-virt';

async function publishCsiCloneProfile(kube: ReturnType<typeof adminKube>): Promise<void> {
  const path = `/apis/cdi.kubevirt.io/v1beta1/storageprofiles/${STORAGE_CLASS}`;
  if (!(await kube.get(path))) {
    await kube.create('/apis/cdi.kubevirt.io/v1beta1/storageprofiles', {
      apiVersion: 'cdi.kubevirt.io/v1beta1',
      kind: 'StorageProfile',
      metadata: { name: STORAGE_CLASS },
      spec: {},
    });
  }
  await kube.patch(`${path}/status`, 'merge', { status: { storageClass: STORAGE_CLASS, cloneStrategy: 'csi-clone' } });
}

export async function benchImages(report: (line: string) => void): Promise<void> {
  if (CLONE === 'csi-clone') await publishCsiCloneProfile(adminKube());
  report(`images: clones ${CLONE} (IMAGES_BENCH_CLONE)`);
  // IMAGES_BENCH_MODES: one of them only (e.g. "on" while looking into one).
  const modes = (process.env.IMAGES_BENCH_MODES ?? 'off,on').split(',').filter((m): m is 'off' | 'on' => m === 'off' || m === 'on');
  const rounds = Math.max(1, Number(process.env.IMAGES_BENCH_ROUNDS ?? 1) || 1);
  const order = Array.from({ length: rounds }, (_, r) => (r % 2 === 0 ? modes : [...modes].reverse())).flat();
  const seconds: Record<string, number[]> = {};
  for (const mode of order) {
    const stack = await startStack({
      kubeconfig: readFileSync(process.env.KUBECONFIG!, 'utf8'),
      pingIntervalMs: 3_600_000,
      env: { IMAGE_CACHE: mode },
    });
    let ns: string | undefined;
    try {
      ns = await freshNamespace(`bench-img-${mode}`);
      for (const n of SIZES) {
        const file = `bench-${mode}-${n}.img`;
        const body = rawDisk(IMAGE_BYTES);
        stack.images.files.set(file, body);
        const name = `img-${n}`;
        const t0 = performance.now();
        await stack.admin.create(
          paths.mds(ns),
          machineDeployment(stack.images.url(file), ns, name, { replicas: n, labels: { pool: name } }),
        );
        const writes0 = stack.simulator?.stats().statusWrites ?? 0;
        // Where the time goes: the last Machine's disk populated (its DataVolume Succeeded), and
        // with the cache the golden's import; then all Ready.
        const marks: { golden?: number; created?: number; disks?: number } = {};
        let ready = 0;
        while (ready < n) {
          if (performance.now() - t0 > TIMEOUT_MS)
            throw new Error(`images ${mode} N=${n}: ${ready}/${n} Ready after ${TIMEOUT_MS / 1000} s`);
          await sleep(POLL_MS);
          ready = (await machinesOf(stack.admin, ns)).filter((m) => m.metadata.labels?.pool === name && isReady(m)).length;
          if (marks.disks === undefined) {
            const dvs = await stack.admin.request<{ items: any[] }>(
              'GET',
              `/apis/cdi.kubevirt.io/v1beta1/namespaces/${INFRA_NAMESPACE}/datavolumes`,
            );
            const ok = (d: any) => d.status?.phase === 'Succeeded';
            const mine = dvs.items.filter((d) => d.metadata.labels?.[LABEL_MACHINE_NAMESPACE] === ns);
            const golden = dvs.items.find((d) => d.metadata.name.startsWith('kmf-golden-') && d.spec?.source?.http?.url?.endsWith(file));
            if (golden && ok(golden) && marks.golden === undefined) marks.golden = performance.now() - t0;
            if (mine.length >= n && marks.created === undefined) marks.created = performance.now() - t0;
            if (mine.length >= n && mine.every(ok)) marks.disks = performance.now() - t0;
          }
        }
        const elapsed = (performance.now() - t0) / 1000;
        (seconds[`${mode} N=${n}`] ??= []).push(elapsed);
        const writes = (stack.simulator?.stats().statusWrites ?? 0) - writes0;
        const at = (ms?: number) => (ms === undefined ? '?' : `${(ms / 1000).toFixed(2)} s`);
        const hits = stack.images.requests.filter((r) => r.path === file && r.method === 'GET');
        const downloads = hits.filter((r) => !r.range).length;
        // A ranged GET (the preflight's probe) is answered with at most the bytes it asks for.
        const probeBytes = hits
          .filter((r) => r.range)
          .reduce((sum, r) => {
            const m = /^bytes=(\d+)-(\d*)$/.exec(r.range!);
            return sum + (m ? Math.min(IMAGE_BYTES, m[2] ? Number(m[2]) + 1 : IMAGE_BYTES) - Number(m[1]) : 0);
          }, 0);
        const bytes = downloads * body.length + probeBytes;
        report(
          `images: IMAGE_CACHE=${mode}, N=${n}: ${(bytes / 1024 / 1024).toFixed(2)} MiB served ` +
            `(${downloads} downloads of the ${IMAGE_BYTES / 1024 / 1024} MiB image, ${hits.length - downloads} probes), all Ready in ${elapsed.toFixed(2)} s ` +
            `(${mode === 'on' ? `golden Succeeded at ${at(marks.golden)}, ` : ''}every Machine's DataVolume created at ${at(marks.created)}, Succeeded at ${at(marks.disks)}; ` +
            `${writes} simulator status writes)`,
        );
      }
    } finally {
      try {
        if (ns) await removeLeftovers(stack.admin, ns);
      } finally {
        await stack.stop();
      }
    }
  }
  if (rounds > 1) {
    const median = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      const mid = Math.floor(s.length / 2);
      return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
    };
    for (const n of SIZES) {
      const off = seconds[`off N=${n}`];
      const on = seconds[`on N=${n}`];
      if (!off || !on) continue;
      report(
        `images: N=${n}, median of ${rounds} rounds: all Ready cache on ${median(on).toFixed(2)} s, off ${median(off).toFixed(2)} s ` +
          `(on/off ${(median(on) / median(off)).toFixed(2)})`,
      );
    }
  }
}

/** The mode's Machines, then its goldens: the next mode starts on a control plane as empty as this one did. */
async function removeLeftovers(kube: ReturnType<typeof adminKube>, ns: string): Promise<void> {
  await removeDeployments(kube, ns, TIMEOUT_MS);
  const dvs = `/apis/cdi.kubevirt.io/v1beta1/namespaces/${INFRA_NAMESPACE}/datavolumes`;
  const labelled = await kube.request<{ items: { metadata: { name: string; labels?: Record<string, string> } }[] }>('GET', dvs, {
    query: { labelSelector: LABEL_GOLDEN },
  });
  for (const g of labelled.items.filter(isGoldenDataVolume)) await kube.delete(`${dvs}/${g.metadata.name}`);
}
