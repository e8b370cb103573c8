/**
 * Shared pieces of the simulator's integration tests: a local image server, a simulator per
 * test namespace with fast timings, and a recorder of every state an object goes through
 * (a real watch, so no short-lived phase is missed).
 */
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { collectionPath, type Kind } from '../../../shared/kube/paths.js';
import { listWatch } from '../../../dev/kube/watch.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../../dev/simulator/index.js';
import { adminKube, testKubeconfig } from '../support/kube.js';

export const FAST = {
  dvStepMs: 20,
  importChunkMs: 20,
  progressPollMs: 20,
  vmiStepMs: 20,
  restartBackoffMs: 40,
  restartBackoffMaxMs: 160,
  watchRetryMs: 50,
};

export function kubeconfigText(): string {
  return testKubeconfig(); // refuses anything but the test control plane
}

/** The simulator's log lines of every test simulator, newest last (for assertions on what the importer said). */
export const simulatorLog: string[] = [];

export function startTestSimulator(namespaces: string[], extra: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  return startSimulator({
    kubeconfig: kubeconfigText(),
    namespaces,
    timings: FAST,
    log: (l) => {
      simulatorLog.push(l);
      if (simulatorLog.length > 2000) simulatorLog.splice(0, simulatorLog.length - 2000);
      if (process.env.KMF_SIM_VERBOSE === '1') process.stderr.write(`[sim] ${l}\n`);
    },
    ...extra,
  });
}

export interface SeenRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
}

export interface ImageServer {
  url: (path: string) => string;
  requests: SeenRequest[];
  /** Replaces or adds a route at runtime (e.g. a 404 that later serves the image). */
  route: (path: string, handler: http.RequestListener) => void;
  close: () => Promise<void>;
}

/**
 * A raw disk of 256 KiB: a boot signature, zeros, then random bytes from 64 KiB on (so no
 * magic number of a format CDI or qemu-img knows can appear at its start).
 */
export const DISK = rawDisk(256 * 1024);

export function rawDisk(size: number): Buffer {
  const b = Buffer.alloc(size);
  b[510] = 0x55;
  b[511] = 0xaa;
  randomBytes(size - 64 * 1024).copy(b, 64 * 1024);
  return b;
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export function serveBytes(body: Buffer): http.RequestListener {
  return (req, res) => {
    res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}

export async function startImageServer(): Promise<ImageServer> {
  const routes = new Map<string, http.RequestListener>([
    ['/disk.img', serveBytes(DISK)],
    ['/redirect', (_q, s) => void s.writeHead(302, { location: '/disk.img' }).end()],
  ]);
  const requests: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push({ method: req.method ?? '', path, headers: req.headers });
    const handler = routes.get(path);
    if (handler) return void handler(req, res);
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (p) => `http://127.0.0.1:${port}${p}`,
    requests,
    route: (p, h) => void routes.set(p, h),
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A loopback port nothing listens on. */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

export interface Recorder {
  /** Every observed version of the object, in order (ADDED/MODIFIED/DELETED). */
  seen: { type: string; obj: any }[];
  latest(): any | undefined;
  /** Consecutive-distinct values of `pick` over the observed versions. */
  sequence(pick: (obj: any) => unknown): unknown[];
  stop(): void;
}

/** Watches `name` in `namespace` from now on; start it before creating the object. */
export function record(kind: Kind, namespace: string, name: string): Recorder {
  const kube = adminKube(); // its LIST reuses a pooled connection; the watch has one of its own
  const abort = new AbortController();
  const seen: { type: string; obj: any }[] = [];
  // The state when the watch starts (the object if it exists), then every change; a failed
  // watch resumes from the last resourceVersion seen.
  listWatch(kube, {
    path: collectionPath(kind, namespace),
    fieldSelector: `metadata.name=${name}`,
    signal: abort.signal,
    watchTimeoutSeconds: 60,
    backoff: { initialMs: 100, maxMs: 100 },
    onList: (items) => seen.push(...items.map((obj) => ({ type: 'ADDED', obj }))),
    onEvent: (type, obj) => seen.push({ type, obj }),
  });
  return {
    seen,
    latest: () => {
      const last = seen[seen.length - 1];
      return last && last.type !== 'DELETED' ? last.obj : undefined;
    },
    sequence: (pick) => {
      const out: unknown[] = [];
      for (const { obj } of seen) {
        const v = pick(obj);
        if (out.length === 0 || JSON.stringify(out[out.length - 1]) !== JSON.stringify(v)) out.push(v);
      }
      return out;
    },
    stop: () => abort.abort(),
  };
}

/** Polls `check` (synchronous, e.g. over a recorder) until it holds. */
export async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not true after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const condition = (obj: any, type: string): any => (obj?.status?.conditions ?? []).find((c: any) => c.type === type);

export function httpDataVolume(
  name: string,
  url: string,
  extra: { spec?: Record<string, unknown>; source?: Record<string, unknown> } = {},
): Record<string, unknown> {
  return {
    apiVersion: 'cdi.kubevirt.io/v1beta1',
    kind: 'DataVolume',
    metadata: { name },
    spec: {
      source: { http: { url, ...(extra.source ?? {}) } },
      storage: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      ...(extra.spec ?? {}),
    },
  };
}
