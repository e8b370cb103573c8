/**
 * Image benchmark (issue 18): for N Machines of one image (a MachineDeployment of N replicas on
 * the local stack: every function, the event bridge, the simulator running CDI's importer for
 * every http import), the bytes the image server sent and the time from the create until every
 * Machine is Ready — with IMAGE_CACHE=off (each disk imports the image) and on (one golden import,
 * N clones), in the same run. Sizes: IMAGES_BENCH_SIZES (default "10,100"); image size:
 * IMAGES_BENCH_MIB (default 8). Figures, not assertions.
 */
import { readFileSync } from 'node:fs';
import { startStack } from '../../dev/stack/index.js';
import { rawDisk } from '../../dev/stack/image-server.js';
import { freshNamespace } from '../integration/support/kube.js';
import { isReady, machineDeployment, machinesOf, paths, sleep } from '../integration/e2e/md-support.js';

const SIZES = (process.env.IMAGES_BENCH_SIZES ?? '10,100')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const IMAGE_BYTES = Number(process.env.IMAGES_BENCH_MIB ?? 8) * 1024 * 1024;
const TIMEOUT_MS = 15 * 60_000;
const POLL_MS = 200;

export async function benchImages(report: (line: string) => void): Promise<void> {
  for (const mode of ['off', 'on'] as const) {
    const stack = await startStack({
      kubeconfig: readFileSync(process.env.KUBECONFIG!, 'utf8'),
      pingIntervalMs: 3_600_000,
      env: { IMAGE_CACHE: mode },
    });
    try {
      const ns = await freshNamespace(`bench-img-${mode}`);
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
        let ready = 0;
        while (ready < n) {
          if (performance.now() - t0 > TIMEOUT_MS)
            throw new Error(`images ${mode} N=${n}: ${ready}/${n} Ready after ${TIMEOUT_MS / 1000} s`);
          await sleep(POLL_MS);
          ready = (await machinesOf(stack.admin, ns)).filter((m) => m.metadata.labels?.pool === name && isReady(m)).length;
        }
        const seconds = (performance.now() - t0) / 1000;
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
            `(${downloads} downloads of the ${IMAGE_BYTES / 1024 / 1024} MiB image, ${hits.length - downloads} probes), all Ready in ${seconds.toFixed(2)} s`,
        );
      }
    } finally {
      await stack.stop();
    }
  }
}
