/**
 * The simulated CDI DataVolume controller against a real apiserver, http sources imported by
 * CDI's own importer (dev/upstream/go/cdi-importer) from a local HTTP server: the phases,
 * progress, conditions and failure signals CDI really shows, and the disk it really writes.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { collectionPath, DATA_VOLUME, SECRET } from '../../../shared/kube/paths.js';
import type { Simulator } from '../../../dev/simulator/index.js';
import { adminKube } from '../support/admin.js';
import { freshNamespace } from '../support/kube.js';
import { needing } from '../../support/system-tools.js';
import { ImageDir } from '../../unit/image/image-files.js';
import {
  closedPort,
  condition,
  DISK,
  httpDataVolume,
  record,
  serveBytes,
  sha256,
  simulatorLog,
  startImageServer,
  startTestSimulator,
  until,
  type ImageServer,
  type Recorder,
} from './support.js';

const test = suite('simulator: DataVolume (CDI, its importer for http)');
const withQemu = needing(test, ['qemu-img']);
let server: ImageServer;
let sim: Simulator | undefined;
let ns: string;
const recorders: Recorder[] = [];
const files = new ImageDir();

test.before(async () => {
  server = await startImageServer();
});
test.after(async () => {
  await server.close();
  files.remove();
});
test.before.each(async () => {
  ns = await freshNamespace('sim-dv');
  sim = await startTestSimulator([ns]);
});
test.after.each(async () => {
  for (const r of recorders.splice(0)) r.stop();
  await sim?.stop();
  sim = undefined;
});

async function createDv(body: Record<string, unknown>): Promise<Recorder> {
  const name = (body.metadata as { name: string }).name;
  const rec = record(DATA_VOLUME, ns, name);
  recorders.push(rec);
  await new Promise((r) => setTimeout(r, 50)); // let the watch open before the object exists
  await adminKube().create(collectionPath(DATA_VOLUME, ns), body);
  return rec;
}

/** A DataVolume whose PVC is exactly `bytes` large (so CDI's importer does not grow the disk). */
const MIB = 1024 * 1024;

function sized(name: string, url: string, bytes: number, extra: Parameters<typeof httpDataVolume>[2] = {}): Record<string, unknown> {
  const dv = httpDataVolume(name, url, extra) as { spec: { storage: { resources: { requests: { storage: string } } } } };
  dv.spec.storage.resources.requests.storage = String(bytes);
  return dv as unknown as Record<string, unknown>;
}

const phaseOf = (o: any): string => o?.status?.phase ?? '';
const PROGRESS = /^\d{1,3}\.\d{2}%$/;
const NOT_FOUND_MSG = 'Unable to connect to http data source: expected status code 200, got 404. Status: 404 Not Found';
const running = (o: any): [string, string, string] => {
  const c = condition(o, 'Running');
  return [c?.status, c?.reason, c?.message];
};
const isZero = (b: Buffer): boolean => b.every((x) => x === 0);

withQemu(
  'http import: Pending → ImportScheduled → ImportInProgress → Succeeded 100.0%; the disk is the source grown to the PVC',
  async () => {
    const started = Date.now();
    const rec = await createDv(sized('disk', server.url('/disk.img'), 1024 * 1024, { source: { extraHeaders: ['X-Trace: abc'] } }));
    await until('Succeeded', () => phaseOf(rec.latest()) === 'Succeeded');
    const elapsed = Date.now() - started;

    assert.equal(rec.sequence(phaseOf), ['', 'Pending', 'ImportScheduled', 'ImportInProgress', 'Succeeded']);
    const progress = rec.sequence((o) => o.status?.progress).filter((p) => p !== undefined) as string[];
    assert.is(progress[0], 'N/A');
    assert.is(progress[progress.length - 1], '100.0%');
    for (const p of progress.slice(1, -1)) assert.match(p, PROGRESS);

    const dv = rec.latest();
    assert.is(dv.status.claimName, 'disk');
    assert.is(dv.status.restartCount, undefined, 'restartCount is omitempty');
    assert.equal(
      ['Bound', 'Ready', 'Running'].map((t) => {
        const c = condition(dv, t);
        return [c.type, c.status, c.reason, c.message];
      }),
      [
        ['Bound', 'True', 'Bound', 'PVC disk Bound'],
        ['Ready', 'True', undefined, undefined],
        ['Running', 'False', 'Completed', 'Import Complete'],
      ],
    );
    // While importing, the pod was seen running and Ready carried TransferRunning.
    const inProgress = rec.seen.map((s) => s.obj).find((o) => phaseOf(o) === 'ImportInProgress');
    assert.equal(running(inProgress).slice(0, 2), ['True', 'Pod is running']);
    assert.is(condition(inProgress, 'Ready').reason, 'TransferRunning');

    const hits = server.requests.filter((r) => r.path === '/disk.img');
    assert.equal(
      hits.map((r) => r.method),
      ['HEAD', 'GET'],
      'HEAD for the length, then GET',
    );
    assert.is(hits[1]!.headers['user-agent'], 'cdi-golang-importer');
    assert.is(hits[1]!.headers['x-trace'], 'abc');

    // CDI's importer converted to raw and grew the image to the PVC's size (ResizeImage).
    const disk = readFileSync(sim!.diskOf(ns, 'disk')!);
    assert.is(disk.length, 1024 * 1024);
    assert.ok(disk.subarray(0, DISK.length).equals(DISK), 'the source bytes first');
    assert.ok(isZero(disk.subarray(DISK.length)), 'then zeros');
    assert.ok(sim!.stats().importerProcesses >= 1);
    assert.ok(elapsed < 5_000, `import took ${elapsed} ms`);
  },
);

withQemu("progress: the importer's own metric, read as CDI's controller reads it, rises during a slow transfer", async () => {
  // Four quarters a little over a second apart: the importer updates its metric every second.
  server.route('/slow.img', (req, res) => {
    res.writeHead(200, { 'content-length': DISK.length, 'accept-ranges': 'bytes' });
    if (req.method === 'HEAD') return void res.end();
    const quarter = DISK.length / 4;
    let i = 0;
    const next = (): void => {
      res.write(DISK.subarray(i * quarter, (i + 1) * quarter));
      if (++i < 4) setTimeout(next, 1_100);
      else res.end();
    };
    next();
  });
  const rec = await createDv(httpDataVolume('slow', server.url('/slow.img')));
  await until('Succeeded', () => phaseOf(rec.latest()) === 'Succeeded', 20_000);
  const progress = rec.sequence((o) => o.status?.progress).filter((p) => p !== undefined) as string[];
  const during = progress.filter((p) => PROGRESS.test(p)).map((p) => Number.parseFloat(p));
  assert.ok(during.filter((p) => p > 0 && p < 100).length >= 2, `several readings between 0 and 100: ${progress.join(', ')}`);
  for (let i = 1; i < during.length; i++) assert.ok(during[i]! >= during[i - 1]!, `progress only rises: ${progress.join(', ')}`);
  assert.is(progress[progress.length - 1], '100.0%');
});

const formats = needing(test, ['qemu-img', 'xz', 'genisoimage']);
formats('raw, gz, xz, qcow2 and iso import through CDI: the disk equals the source disk (the iso as is)', async () => {
  const raw = files.raw('src.raw', 1024 * 1024);
  const sources: Record<string, { file: string; expected: Buffer }> = {
    raw: { file: raw, expected: files.readAll(raw) },
    gz: { file: files.gzip(raw), expected: files.readAll(raw) },
    xz: { file: files.compress('xz', raw), expected: files.readAll(raw) },
    qcow2: { file: 'src.qcow2', expected: files.readAll(raw) },
    iso: { file: files.iso('src.iso'), expected: Buffer.alloc(0) },
  };
  files.run('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, 'src.qcow2']);
  sources.iso!.expected = files.readAll('src.iso');
  const recs: Record<string, Recorder> = {};
  for (const [fmt, { file, expected }] of Object.entries(sources)) {
    server.route(`/${file}`, serveBytes(files.readAll(file)));
    // CDI's admission wants at least 1 MiB of storage; the importer grows a smaller disk to it.
    recs[fmt] = await createDv(sized(`fmt-${fmt}`, server.url(`/${file}`), Math.max(expected.length, MIB)));
  }
  await until('all Succeeded', () => Object.values(recs).every((r) => phaseOf(r.latest()) === 'Succeeded'), 20_000);
  for (const [fmt, { expected }] of Object.entries(sources)) {
    const disk = readFileSync(sim!.diskOf(ns, `fmt-${fmt}`)!);
    assert.is(sha256(disk.subarray(0, expected.length)), sha256(expected), `${fmt}: the imported disk is the source disk`);
    assert.ok(
      disk.subarray(expected.length).every((b) => b === 0),
      `${fmt}: grown to the request with zeros only`,
    );
  }
});

withQemu('404: CDI message, phase stays ImportInProgress, progress N/A, restartCount grows, never Failed', async () => {
  const rec = await createDv(httpDataVolume('missing', server.url('/nothing-here.img')));
  await until('restartCount ≥ 3', () => (rec.latest()?.status?.restartCount ?? 0) >= 3);
  const dv = rec.latest();
  assert.is(dv.status.phase, 'ImportInProgress');
  assert.is(dv.status.progress, 'N/A');
  assert.equal(running(dv), ['False', 'Error', NOT_FOUND_MSG]);
  assert.is(condition(dv, 'Ready').status, 'False');
  assert.is(condition(dv, 'Bound').status, 'True');
  assert.not.ok(rec.seen.some((s) => ['Failed', 'Succeeded'].includes(phaseOf(s.obj))));
  const counts = rec.sequence((o) => o.status?.restartCount ?? 0) as number[];
  for (let i = 1; i < counts.length; i++) assert.ok(counts[i]! > counts[i - 1]!, `restartCount only grows: ${counts.join(',')}`);
  assert.ok(server.requests.filter((r) => r.path === '/nothing-here.img' && r.method === 'GET').length >= 4, 'the importer really retried');
});

withQemu('unreachable URL: "Unable to connect to http data source" with Go\'s dial error', async () => {
  const port = await closedPort();
  const url = `http://127.0.0.1:${port}/disk.img`;
  const rec = await createDv(httpDataVolume('unreachable', url));
  await until('Running Error', () => condition(rec.latest(), 'Running')?.reason === 'Error');
  assert.is(
    condition(rec.latest(), 'Running').message,
    `Unable to connect to http data source: HTTP request errored: Get "${url}": dial tcp 127.0.0.1:${port}: connect: connection refused`,
  );
  assert.is(phaseOf(rec.latest()), 'ImportInProgress');
});

needing(test, ['qemu-img', 'bzip2'])(
  'a bz2 image (no preflight here) "succeeds": the disk is the compressed bytes, zero-padded',
  async () => {
    const raw = files.raw('bz.raw', 1024 * 1024);
    const bz2 = files.readAll(files.compress('bzip2', raw));
    server.route('/disk.raw.bz2', serveBytes(bz2));
    const rec = await createDv(sized('bz2', server.url('/disk.raw.bz2'), 1024 * 1024));
    await until('Succeeded', () => phaseOf(rec.latest()) === 'Succeeded');
    assert.equal(running(rec.latest()), ['False', 'Completed', 'Import Complete']);
    const disk = readFileSync(sim!.diskOf(ns, 'bz2')!);
    assert.is(disk.length, 1024 * 1024);
    assert.ok(disk.subarray(0, bz2.length).equals(bz2), 'the bzip2 stream itself, not the disk inside');
    assert.ok(isZero(disk.subarray(bz2.length)));
    assert.is.not(sha256(disk), sha256(files.readAll(raw)));
  },
);

withQemu(
  'a qcow2 larger than the PVC: the importer\'s "A larger PVC is required", shown as "DataVolume too small to contain image"',
  async () => {
    files.qemuImg('qcow2', 'big.qcow2', '2M');
    server.route('/big.qcow2', serveBytes(files.readAll('big.qcow2')));
    // 1 MiB: the least CDI's admission lets a DataVolume ask for.
    const rec = await createDv(sized('small', server.url('/big.qcow2'), MIB));
    await until('restarting', () => (rec.latest()?.status?.restartCount ?? 0) >= 1);
    assert.equal(running(rec.latest()), ['False', 'Error', 'DataVolume too small to contain image']);
    assert.is(phaseOf(rec.latest()), 'ImportInProgress');
    assert.ok(
      simulatorLog.some((l) =>
        l.endsWith(
          'Unable to process data: Unable to convert source data to target format: virtual image size 2097152 is larger than the reported available storage 1048576. A larger PVC is required',
        ),
      ),
      'the termination message CDI rewrote',
    );
  },
);

withQemu('http checksum: a match imports; a mismatch is fatal (Failed, ChecksumError, no restart, disk removed)', async () => {
  const good = await createDv(httpDataVolume('sum-ok', server.url('/disk.img'), { source: { checksum: `sha256:${sha256(DISK)}` } }));
  const bad = await createDv(httpDataVolume('sum-bad', server.url('/disk.img'), { source: { checksum: `sha256:${'0'.repeat(64)}` } }));
  await until('both settled', () => phaseOf(good.latest()) === 'Succeeded' && phaseOf(bad.latest()) === 'Failed');
  const [status, reason, message] = running(bad.latest());
  assert.equal([status, reason], ['False', 'ChecksumError']);
  assert.is(
    message,
    `Unable to process data: Unable to transfer source data to scratch space: checksum validation failed: checksum mismatch: expected sha256:${'0'.repeat(64)}, calculated sha256:${sha256(DISK)}`,
  );
  assert.is(bad.latest().status.restartCount, undefined);
  assert.not.ok(bad.seen.some((s) => phaseOf(s.obj) === 'Succeeded'));
  await new Promise((r) => setTimeout(r, 300));
  assert.is(phaseOf(bad.latest()), 'Failed', 'not retried');
  assert.throws(() => statSync(sim!.diskOf(ns, 'sum-bad')!), /ENOENT/);
});

withQemu('redirects are followed with basic auth from secretRef re-applied and the extra headers added again (so sent twice)', async () => {
  await adminKube().create(collectionPath(SECRET, ns), {
    metadata: { name: 'creds' },
    stringData: { accessKeyId: 'alice', secretKey: 's3cret' },
  });
  const rec = await createDv(
    httpDataVolume('redirected', server.url('/redirect'), { source: { secretRef: 'creds', extraHeaders: ['X-Trace: r'] } }),
  );
  await until('Succeeded', () => phaseOf(rec.latest()) === 'Succeeded');
  const final = server.requests.filter((r) => r.path === '/disk.img' && r.method === 'GET').pop()!;
  assert.is(final.headers.authorization, `Basic ${Buffer.from('alice:s3cret').toString('base64')}`);
  // Go carries the first request's headers over to the redirect and CDI's CheckRedirect adds
  // its extra headers once more: the header arrives twice (Node joins the values).
  assert.is(final.headers['x-trace'], 'r, r');
  assert.is(final.headers['user-agent'], 'cdi-golang-importer');
});

test('a missing secretRef keeps the importer pod from starting: ImportScheduled, CreateContainerConfigError', async () => {
  const rec = await createDv(httpDataVolume('nosecret', server.url('/disk.img'), { source: { secretRef: 'absent' } }));
  await until('waiting', () => condition(rec.latest(), 'Running')?.reason === 'CreateContainerConfigError');
  assert.is(phaseOf(rec.latest()), 'ImportScheduled');
  assert.is(condition(rec.latest(), 'Running').message, 'secret "absent" not found');
});

withQemu(
  'the body breaking off mid-transfer: "… failed to pull image: unexpected EOF", so Running reason ImagePullFailed; a retry succeeds',
  async () => {
    let calls = 0;
    server.route('/flaky.img', (req, res) => {
      res.writeHead(200, { 'content-length': DISK.length });
      if (req.method === 'HEAD') return void res.end();
      if (++calls === 1) {
        res.write(DISK.subarray(0, 1000));
        setTimeout(() => res.destroy(), 20);
        return;
      }
      res.end(DISK);
    });
    const rec = await createDv(httpDataVolume('flaky', server.url('/flaky.img')));
    await until('Succeeded', () => phaseOf(rec.latest()) === 'Succeeded');
    // CDI's StreamDataToFile wraps read errors as an ImagePullFailedError, and its controller
    // turns a termination message containing "failed to pull image" into reason ImagePullFailed.
    const failed = rec.seen.map((x) => x.obj).find((o) => condition(o, 'Running')?.reason === 'ImagePullFailed');
    assert.equal(running(failed), [
      'False',
      'ImagePullFailed',
      'Unable to process data: Unable to transfer source data to scratch space: failed to pull image: unexpected EOF',
    ]);
    assert.is(phaseOf(failed), 'ImportInProgress');
    assert.is(rec.latest().status.restartCount, 1, 'succeeded on the first restart');
  },
);

withQemu('a URL that starts answering after failures: restartCount kept, Succeeded', async () => {
  server.route('/late.img', (_q, s) => void s.writeHead(404).end());
  const rec = await createDv(httpDataVolume('late', server.url('/late.img')));
  await until('restartCount ≥ 2', () => (rec.latest()?.status?.restartCount ?? 0) >= 2);
  server.route('/late.img', serveBytes(DISK));
  await until('Succeeded', () => phaseOf(rec.latest()) === 'Succeeded');
  assert.ok(rec.latest().status.restartCount >= 2);
  assert.is(rec.latest().status.progress, '100.0%');
});

withQemu('contentType archive with a non-tar body: the untar error', async () => {
  const rec = await createDv(httpDataVolume('archive', server.url('/disk.img'), { spec: { contentType: 'archive' } }));
  await until('Running Error', () => condition(rec.latest(), 'Running')?.reason === 'Error');
  assert.is(
    condition(rec.latest(), 'Running').message,
    'Unable to process data: Unable to transfer source data to target directory: unable to untar files from endpoint: exit status 2',
  );
});

needing(test, ['tar'])('contentType archive with a tar: its files unpacked into the volume', async () => {
  files.write('a.txt', Buffer.from('alpha\n'));
  files.write('b.txt', Buffer.from('beta\n'));
  files.run('tar', ['-cf', 'files.tar', 'a.txt', 'b.txt']);
  server.route('/files.tar', serveBytes(files.readAll('files.tar')));
  const rec = await createDv(httpDataVolume('untar', server.url('/files.tar'), { spec: { contentType: 'archive' } }));
  await until('Succeeded', () => phaseOf(rec.latest()) === 'Succeeded');
  const volume = path.dirname(sim!.diskOf(ns, 'untar')!);
  assert.equal(readdirSync(volume).sort(), ['a.txt', 'b.txt']);
  assert.is(readFileSync(path.join(volume, 'b.txt'), 'utf8'), 'beta\n');
});

test('without qemu-img on this machine: imports fail with a message naming it and its package, and keep retrying', async () => {
  await sim!.stop();
  sim = await startTestSimulator([ns], { importer: { searchPath: files.dir } });
  const rec = await createDv(httpDataVolume('noqemu', server.url('/disk.img')));
  await until('restarting', () => (rec.latest()?.status?.restartCount ?? 0) >= 1);
  const [status, reason, message] = running(rec.latest());
  assert.equal([status, reason], ['False', 'Error']);
  assert.match(message, /qemu-img/);
  assert.match(message, /apt-get install qemu-utils/);
});

withQemu('a node with room for one importer pod: the second waits in ImportScheduled, Unschedulable, then imports', async () => {
  await sim!.stop();
  sim = await startTestSimulator([ns], { importer: { maxConcurrent: 1 } });
  server.route('/held.img', (req, res) => {
    res.writeHead(200, { 'content-length': DISK.length });
    if (req.method === 'HEAD') return void res.end();
    setTimeout(() => res.end(DISK), 600);
  });
  const first = await createDv(httpDataVolume('first', server.url('/held.img')));
  await until('first importing', () => phaseOf(first.latest()) === 'ImportInProgress');
  const second = await createDv(httpDataVolume('second', server.url('/disk.img')));
  await until('both Succeeded', () => phaseOf(first.latest()) === 'Succeeded' && phaseOf(second.latest()) === 'Succeeded');
  const waited = second.seen.map((s) => s.obj).find((o) => condition(o, 'Running')?.reason === 'Unschedulable');
  assert.ok(waited, 'the second pod did not fit');
  assert.is(phaseOf(waited), 'ImportScheduled');
  assert.is(condition(waited, 'Running').message, 'Importer pod cannot be scheduled');
});

test('registry source: simulated import; `notfound` + pullMethod node → ImagePullFailed; pullMethod pod → Error', async () => {
  const ok = await createDv({
    ...httpDataVolume('reg', ''),
    spec: {
      source: { registry: { url: 'docker://quay.io/containerdisks/fedora:40' } },
      storage: { resources: { requests: { storage: '1Gi' } } },
    },
  });
  const node = await createDv({
    ...httpDataVolume('reg-node', ''),
    spec: {
      source: { registry: { url: 'docker://quay.io/x/notfound:1', pullMethod: 'node' } },
      storage: { resources: { requests: { storage: '1Gi' } } },
    },
  });
  const pod = await createDv({
    ...httpDataVolume('reg-pod', ''),
    spec: { source: { registry: { url: 'docker://quay.io/x/notfound:1' } }, storage: { resources: { requests: { storage: '1Gi' } } } },
  });
  await until('registry Succeeded', () => phaseOf(ok.latest()) === 'Succeeded');
  await until('ImagePullFailed', () => condition(node.latest(), 'Running')?.reason === 'ImagePullFailed');
  assert.is(condition(node.latest(), 'Running').message, 'failed to pull image: quay.io/x/notfound:1');
  assert.is(phaseOf(node.latest()), 'ImportScheduled');
  await until('pod pull restarts', () => (pod.latest()?.status?.restartCount ?? 0) >= 1);
  assert.is(condition(pod.latest(), 'Running').reason, 'Error');
  assert.match(condition(pod.latest(), 'Running').message, /^Unable to process data: .*Failed to read registry image: .*manifest unknown$/);
  assert.is(node.latest().status.restartCount, undefined, 'an image that cannot be pulled never starts a container');
});

const cloneOf = (name: string, source: string): Record<string, unknown> => ({
  ...httpDataVolume(name, ''),
  spec: { source: { pvc: { namespace: ns, name: source } }, storage: { resources: { requests: { storage: '1Gi' } } } },
});
const registryDv = (name: string): Record<string, unknown> => ({
  ...httpDataVolume(name, ''),
  spec: { source: { registry: { url: 'docker://quay.io/x/ok:1' } }, storage: { resources: { requests: { storage: '1Gi' } } } },
});

test('pvc clone of a source not there yet: no phase (CDI: CloneWithoutSource), then waits for the source to succeed, then "Clone Complete"', async () => {
  const clone = await createDv(cloneOf('clone', 'golden'));
  // CDI creates no target PVC without a source: the phase stays empty.
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(clone.sequence(phaseOf), [''], 'no phase while the source does not exist');
  assert.ok(
    simulatorLog.some((l) => l.includes(`DataVolume ${ns}/clone: Warning CloneWithoutSource: The source pvc golden doesn't exist`)),
    "CDI's event, logged",
  );
  const source = await createDv(registryDv('golden'));
  await until('clone CloneScheduled', () => phaseOf(clone.latest()) === 'CloneScheduled');
  await until('clone Succeeded', () => phaseOf(clone.latest()) === 'Succeeded');
  assert.equal(clone.sequence(phaseOf), ['', 'Pending', 'CloneScheduled', 'CloneInProgress', 'Succeeded']);
  assert.equal(
    [condition(clone.latest(), 'Running').reason, condition(clone.latest(), 'Running').message],
    ['Completed', 'Clone Complete'],
  );
  // The clone ran only once its source had succeeded.
  const sourceDone = source.seen.find((x) => phaseOf(x.obj) === 'Succeeded')!.obj.metadata.resourceVersion;
  const cloneRunning = clone.seen.find((x) => phaseOf(x.obj) === 'CloneInProgress')!.obj.metadata.resourceVersion;
  assert.ok(Number(cloneRunning) > Number(sourceDone), `clone started (rv ${cloneRunning}) after the source succeeded (rv ${sourceDone})`);
});

withQemu(
  "a golden http import runs CDI's importer once; its clones wait in CloneScheduled, then all complete without downloading",
  async () => {
    const path = `/golden-${Date.now()}.img`;
    server.route(path, serveBytes(DISK));
    const clones = await Promise.all(['c1', 'c2', 'c3'].map((n) => createDv(cloneOf(n, 'golden'))));
    const golden = await createDv(sized('golden', server.url(path), 1024 * 1024));
    await until('clones CloneScheduled', () => clones.every((c) => phaseOf(c.latest()) === 'CloneScheduled'));
    await until('golden Succeeded', () => phaseOf(golden.latest()) === 'Succeeded', 30_000);
    // Each clone started its transfer only after the golden had succeeded.
    const goldenDone = Number(golden.seen.find((x) => phaseOf(x.obj) === 'Succeeded')!.obj.metadata.resourceVersion);
    await until('clones Succeeded', () => clones.every((c) => phaseOf(c.latest()) === 'Succeeded'), 30_000);
    for (const c of clones) {
      const started = Number(c.seen.find((x) => phaseOf(x.obj) === 'CloneInProgress')!.obj.metadata.resourceVersion);
      assert.ok(started > goldenDone, 'clone transfer after the golden succeeded');
    }
    const gets = server.requests.filter((r) => r.path === path && r.method === 'GET');
    assert.is(gets.length, 1, 'the image body was served once');
  },
);

/** A StorageProfile as CDI publishes it for a CSI driver that clones volumes (status.cloneStrategy). */
async function csiCloneProfile(cls: string): Promise<void> {
  const kube = adminKube();
  await kube.create('/apis/cdi.kubevirt.io/v1beta1/storageprofiles', {
    apiVersion: 'cdi.kubevirt.io/v1beta1',
    kind: 'StorageProfile',
    metadata: { name: cls },
    spec: {},
  });
  await kube.patch(`/apis/cdi.kubevirt.io/v1beta1/storageprofiles/${cls}/status`, 'merge', {
    status: { storageClass: cls, provisioner: 'csi.example.com', cloneStrategy: 'csi-clone' },
  });
}
const inClass = (dv: Record<string, unknown>, cls: string): Record<string, unknown> => {
  const spec = dv.spec as { storage: Record<string, unknown> };
  return { ...dv, spec: { ...spec, storage: { ...spec.storage, storageClassName: cls } } };
};

test("clone strategy as CDI's planner picks it: csi-clone (StorageProfile) completes without a copy; another class, or no profile, copies (host-assisted)", async () => {
  const cls = `csi-${ns}`;
  await csiCloneProfile(cls);
  const source = await createDv(inClass(registryDv('csi-src'), cls));
  await until('source Succeeded', () => phaseOf(source.latest()) === 'Succeeded', 30_000);
  const csi = await createDv(inClass(cloneOf('csi-clone', 'csi-src'), cls));
  const copy = await createDv(inClass(cloneOf('host-clone', 'csi-src'), `other-${ns}`));
  await until('clones Succeeded', () => [csi, copy].every((c) => phaseOf(c.latest()) === 'Succeeded'), 30_000);
  assert.equal(csi.sequence(phaseOf), ['', 'Pending', 'CloneScheduled', 'CSICloneInProgress', 'Succeeded']);
  assert.ok(
    csi.seen.every((x) => !PROGRESS.test(x.obj.status?.progress ?? '') || x.obj.status.progress === '100.0%'),
    'no copy progress reported',
  );
  assert.is(csi.latest().status.progress, '100.0%');
  assert.is(condition(csi.latest(), 'Running').status, 'False');
  // Source and target on different classes: CDI's NoProvisionerMatch fallback, a host-assisted copy.
  assert.equal(copy.sequence(phaseOf), ['', 'Pending', 'CloneScheduled', 'CloneInProgress', 'Succeeded']);
});

test.run();
