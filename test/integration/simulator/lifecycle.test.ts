/**
 * The simulator's own life: level-based restarts (a new simulator continues each object where
 * it stands), objects that existed before it started, polling mode, identity changes, and a
 * stop() that leaves no timer or socket behind.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { collectionPath, DATA_VOLUME, objectPath, VIRTUAL_MACHINE, VIRTUAL_MACHINE_INSTANCE } from '../../../shared/kube/paths.js';
import { startSimulator, type Simulator } from '../../../dev/simulator/index.js';
import { adminKube } from '../support/admin.js';
import { freshNamespace } from '../support/kube.js';
import { needing } from '../../support/system-tools.js';
import {
  condition,
  DISK,
  FAST,
  httpDataVolume,
  record,
  serveBytes,
  startImageServer,
  startTestSimulator,
  until,
  type ImageServer,
  type Recorder,
} from './support.js';

const test = suite('simulator: lifecycle');
const withQemu = needing(test, ['qemu-img']);
let server: ImageServer;
const sims: Simulator[] = [];
const recorders: Recorder[] = [];

test.before(async () => {
  server = await startImageServer();
});
test.after(async () => {
  await server.close();
});
test.after.each(async () => {
  for (const r of recorders.splice(0)) r.stop();
  for (const s of sims.splice(0)) await s.stop();
});

const kube = () => adminKube();
const phaseOf = (o: any): string => o?.status?.phase ?? '';
const track = (r: Recorder): Recorder => (recorders.push(r), r);
async function sim(ns: string, extra = {}): Promise<Simulator> {
  const s = await startTestSimulator([ns], extra);
  sims.push(s);
  return s;
}

/** Timers and sockets of this process, by type. */
function handles(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

/** Processes descended from this one (or orphaned) whose command line mentions `needle`. */
function childProcesses(needle: string): string[] {
  const procs = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
        return { pid: Number(pid), ppid, state, cmd: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ') };
      } catch {
        return undefined;
      }
    })
    .filter((p) => p !== undefined && p.state !== 'Z');
  const mine = new Set([process.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) if (!mine.has(p!.pid) && mine.has(p!.ppid)) grew = !!mine.add(p!.pid);
  }
  // Detached process groups keep their parent link until they exit; orphans are re-parented.
  return procs.filter((p) => p!.cmd.includes(needle) && (mine.has(p!.pid) || p!.ppid === 1)).map((p) => `${p!.pid} ${p!.cmd}`);
}

withQemu('stop() leaves no timer, socket, importer process or work directory behind, even mid-import and mid-retry', async () => {
  const ns = await freshNamespace('sim-stop');
  await new Promise((r) => setTimeout(r, 100));
  const before = handles();
  let slowGets = 0;
  server.route('/slow.img', (req, res) => {
    res.writeHead(200, { 'content-length': DISK.length * 4 });
    if (req.method === 'HEAD') return void res.end();
    slowGets++;
    res.write(DISK); // then hangs: the import is mid-transfer when we stop
  });
  const s = await startTestSimulator([ns]);
  await kube().create(collectionPath(DATA_VOLUME, ns), httpDataVolume('slow', server.url('/slow.img')));
  await kube().create(collectionPath(DATA_VOLUME, ns), httpDataVolume('retrying', server.url('/missing.img')));
  await until('both busy', () => s.stats().importAttempts >= 3 && slowGets > 0);
  assert.ok(childProcesses(s.workDir).length >= 1, 'an importer is running');
  assert.ok(existsSync(s.workDir));
  const during = handles();
  if (process.env.KMF_SIM_VERBOSE === '1') console.log({ before, during });
  const t0 = Date.now();
  await s.stop();
  const stopMs = Date.now() - t0;
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 50));
  const after = handles();
  if (process.env.KMF_SIM_VERBOSE === '1') console.log({ after });
  for (const kind of ['Timeout', 'TCPSocketWrap', 'TCPWRAP', 'TLSWrap', 'ProcessWrap', 'PipeWrap']) {
    // `after` holds one Timeout of our own setTimeout above at most.
    assert.ok(
      (after[kind] ?? 0) <= (before[kind] ?? 0) + (kind === 'Timeout' ? 1 : 0),
      `${kind}: ${JSON.stringify(before)} → ${JSON.stringify(after)}`,
    );
  }
  assert.equal(childProcesses(s.workDir), [], 'no importer process left');
  assert.not.ok(existsSync(s.workDir), 'work directory removed');
  assert.ok(stopMs < 1_000, `stop took ${stopMs} ms`);
});

withQemu('a restarted simulator continues a failing import: restartCount keeps growing, then succeeds', async () => {
  const ns = await freshNamespace('sim-restart');
  server.route('/later.img', (_q, s) => void s.writeHead(404).end());
  const rec = track(record(DATA_VOLUME, ns, 'later'));
  const first = await sim(ns);
  await kube().create(collectionPath(DATA_VOLUME, ns), httpDataVolume('later', server.url('/later.img')));
  await until('restartCount ≥ 2', () => (rec.latest()?.status?.restartCount ?? 0) >= 2);
  await first.stop();
  const atStop: number = rec.latest().status.restartCount;

  await sim(ns);
  await until('restartCount grows past the stop', () => (rec.latest()?.status?.restartCount ?? 0) > atStop);
  server.route('/later.img', serveBytes(DISK));
  await until('Succeeded', () => phaseOf(rec.latest()) === 'Succeeded');
  const counts = rec.sequence((o) => o.status?.restartCount ?? 0) as number[];
  for (let i = 1; i < counts.length; i++) assert.ok(counts[i]! >= counts[i - 1]!, `never reset: ${counts.join(',')}`);
  assert.not.ok(rec.sequence(phaseOf).includes('Failed'));
});

test('objects created before the simulator starts are picked up; a restart keeps VMI addresses unique', async () => {
  const ns = await freshNamespace('sim-late');
  const vmBody = (name: string) => ({
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name },
    spec: {
      runStrategy: 'Always',
      // Memory: KubeVirt's VMI admission refuses a VMI without (virt-controller could not start it).
      template: { spec: { domain: { devices: {}, resources: { requests: { memory: '64Mi' } } }, volumes: [] } },
    },
  });
  await kube().create(collectionPath(VIRTUAL_MACHINE, ns), vmBody('early'));
  const early = track(record(VIRTUAL_MACHINE_INSTANCE, ns, 'early'));
  const first = await sim(ns);
  await until('early Running', () => phaseOf(early.latest()) === 'Running');
  const ip = early.latest().status.interfaces[0].ipAddress;
  await first.stop();

  // A new simulator with a fresh pool must not hand out `ip` again.
  await sim(ns);
  const late = track(record(VIRTUAL_MACHINE_INSTANCE, ns, 'late'));
  await kube().create(collectionPath(VIRTUAL_MACHINE, ns), vmBody('late'));
  await until('late Running', () => phaseOf(late.latest()) === 'Running');
  assert.is.not(late.latest().status.interfaces[0].ipAddress, ip);
  assert.is(early.latest().status.interfaces[0].ipAddress, ip, 'the running VMI keeps its address');
  assert.equal(
    late.latest().status.interfaces.map((i: any) => i.name),
    ['default'],
    'no interfaces declared → the pod network default',
  );
});

withQemu('a DataVolume deleted and re-created under the same name starts over (uid precondition)', async () => {
  const ns = await freshNamespace('sim-uid');
  const s = await sim(ns);
  const path = collectionPath(DATA_VOLUME, ns);
  await kube().create(path, httpDataVolume('again', server.url('/missing.img')));
  await until('failing', () => s.stats().importFailures >= 2);
  await kube().delete(objectPath(DATA_VOLUME, ns, 'again'));
  const rec = track(record(DATA_VOLUME, ns, 'again'));
  await new Promise((r) => setTimeout(r, 50));
  await kube().create(path, httpDataVolume('again', server.url('/disk.img')));
  await until('Succeeded', () => phaseOf(rec.latest()) === 'Succeeded');
  assert.equal(rec.sequence(phaseOf), ['', 'Pending', 'ImportScheduled', 'ImportInProgress', 'Succeeded']);
  assert.is(rec.latest().status.restartCount, undefined, "the old object's restarts are not carried over");
});

withQemu('KubeClient-like mode (list polling instead of watches) works', async () => {
  const ns = await freshNamespace('sim-poll');
  const s = await startSimulator({ kubeconfig: kube(), namespaces: [ns], timings: { ...FAST, pollMs: 50 } });
  sims.push(s);
  const rec = track(record(DATA_VOLUME, ns, 'polled'));
  await kube().create(collectionPath(DATA_VOLUME, ns), httpDataVolume('polled', server.url('/disk.img')));
  await until('Succeeded', () => phaseOf(rec.latest()) === 'Succeeded');
  assert.is(condition(rec.latest(), 'Running').message, 'Import Complete');
  assert.ok(s.stats().relists > 3);
});

test('list failures are retried; startSimulator rejects after syncTimeoutMs and leaves nothing running', async () => {
  let calls = 0;
  const flaky = {
    request: async <T>(method: string, path: string, opts?: any): Promise<T> => {
      if (++calls <= 2) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      return kube().request<T>(method, path, opts);
    },
  };
  const ns = await freshNamespace('sim-flaky');
  const s = await startSimulator({ kubeconfig: flaky, namespaces: [ns], timings: { ...FAST, pollMs: 50 } });
  sims.push(s);
  assert.ok(s.stats().watchErrors >= 2);

  const dead = { request: async () => Promise.reject(Object.assign(new Error('down'), { code: 'ECONNREFUSED' })) };
  const t0 = Date.now();
  const err = await startSimulator({ kubeconfig: dead, timings: FAST, syncTimeoutMs: 300 }).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.ok(err instanceof Error && /did not complete within 300 ms/.test(err.message), String(err));
  assert.ok(Date.now() - t0 < 2_000);
});

test.run();
