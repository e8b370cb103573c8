/**
 * The simulated CDI DataVolume controller against a real apiserver, importing from a local HTTP
 * server: the phases, progress, conditions and failure signals CDI really shows.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { collectionPath, DATA_VOLUME, SECRET } from '../../../shared/kube/paths.js';
import type { Simulator } from '../../../dev/simulator/index.js';
import { adminKube } from '../support/admin.js';
import { freshNamespace } from '../support/kube.js';
import {
  closedPort,
  condition,
  DISK,
  httpDataVolume,
  record,
  serveBytes,
  startImageServer,
  startTestSimulator,
  until,
  type ImageServer,
  type Recorder,
} from './support.js';

const test = suite('simulator: DataVolume (CDI)');
let server: ImageServer;
let sim: Simulator | undefined;
let ns: string;
const recorders: Recorder[] = [];

test.before(async () => {
  server = await startImageServer();
});
test.after(async () => {
  await server.close();
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

const phaseOf = (o: any): string => o?.status?.phase ?? '';
const PROGRESS = /^\d{1,3}\.\d{2}%$/;
const NOT_FOUND_MSG = 'Unable to connect to http data source: expected status code 200, got 404. Status: 404 Not Found';

test('http import succeeds: Pending → ImportScheduled → ImportInProgress (rising progress) → Succeeded 100.0%', async () => {
  const started = Date.now();
  const rec = await createDv(httpDataVolume('disk', server.url('/disk.img'), { source: { extraHeaders: ['X-Trace: abc'] } }));
  await until('Succeeded', () => phaseOf(rec.latest()) === 'Succeeded');
  const elapsed = Date.now() - started;

  assert.equal(rec.sequence(phaseOf), ['', 'Pending', 'ImportScheduled', 'ImportInProgress', 'Succeeded']);
  const progress = rec.sequence((o) => o.status?.progress).filter((p) => p !== undefined) as string[];
  assert.is(progress[0], 'N/A');
  assert.is(progress[progress.length - 1], '100.0%');
  const running = progress.filter((p) => PROGRESS.test(p)).map((p) => Number.parseFloat(p));
  assert.ok(running.length >= 3, `several progress reports: ${progress.join(', ')}`);
  for (let i = 1; i < running.length; i++) assert.ok(running[i]! > running[i - 1]!, `progress rises: ${progress.join(', ')}`);

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
  assert.equal([condition(inProgress, 'Running').status, condition(inProgress, 'Running').reason], ['True', 'Pod is running']);
  assert.is(condition(inProgress, 'Ready').reason, 'TransferRunning');

  const hits = server.requests.filter((r) => r.path === '/disk.img');
  assert.equal(
    hits.map((r) => r.method),
    ['HEAD', 'GET'],
    'HEAD for the length, then GET, as CDI',
  );
  assert.is(hits[1]!.headers['user-agent'], 'cdi-golang-importer');
  assert.is(hits[1]!.headers['x-trace'], 'abc');
  assert.ok(sim!.stats().bytesImported >= DISK.length);
  assert.ok(elapsed < 3_000, `import took ${elapsed} ms`);
});

test('404: CDI message, phase stays ImportInProgress, progress N/A, restartCount grows, never Failed', async () => {
  const rec = await createDv(httpDataVolume('missing', server.url('/nothing-here.img')));
  await until('restartCount ≥ 3', () => (rec.latest()?.status?.restartCount ?? 0) >= 3);
  const dv = rec.latest();
  assert.is(dv.status.phase, 'ImportInProgress');
  assert.is(dv.status.progress, 'N/A');
  const running = condition(dv, 'Running');
  assert.equal([running.status, running.reason, running.message], ['False', 'Error', NOT_FOUND_MSG]);
  assert.is(condition(dv, 'Ready').status, 'False');
  assert.is(condition(dv, 'Bound').status, 'True');
  assert.not.ok(rec.seen.some((s) => ['Failed', 'Succeeded'].includes(phaseOf(s.obj))));
  const counts = rec.sequence((o) => o.status?.restartCount ?? 0) as number[];
  for (let i = 1; i < counts.length; i++) assert.ok(counts[i]! > counts[i - 1]!, `restartCount only grows: ${counts.join(',')}`);
  assert.ok(server.requests.filter((r) => r.path === '/nothing-here.img' && r.method === 'GET').length >= 4, 'the importer really retried');
});

test('unreachable URL: "Unable to connect to http data source" with Go\'s dial error', async () => {
  const port = await closedPort();
  const url = `http://127.0.0.1:${port}/disk.img`;
  const rec = await createDv(httpDataVolume('unreachable', url));
  await until('Running Error', () => condition(rec.latest(), 'Running')?.reason === 'Error');
  const msg: string = condition(rec.latest(), 'Running').message;
  assert.is(
    msg,
    `Unable to connect to http data source: HTTP request errored: Get "${url}": dial tcp 127.0.0.1:${port}: connect: connection refused`,
  );
  assert.is(phaseOf(rec.latest()), 'ImportInProgress');
});

test('a bz2 body "succeeds" (CDI does not know bzip2 and imports it as raw)', async () => {
  const rec = await createDv(httpDataVolume('bz2', server.url('/fedora.raw.bz2')));
  await until('Succeeded', () => phaseOf(rec.latest()) === 'Succeeded');
  assert.is(condition(rec.latest(), 'Running').message, 'Import Complete');
});

test('redirects are followed with extra headers and basic auth from secretRef re-applied', async () => {
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
  assert.is(final.headers['x-trace'], 'r');
});

test('a missing secretRef keeps the importer pod from starting: ImportScheduled, CreateContainerConfigError', async () => {
  const rec = await createDv(httpDataVolume('nosecret', server.url('/disk.img'), { source: { secretRef: 'absent' } }));
  await until('waiting', () => condition(rec.latest(), 'Running')?.reason === 'CreateContainerConfigError');
  assert.is(phaseOf(rec.latest()), 'ImportScheduled');
  assert.is(condition(rec.latest(), 'Running').message, 'secret "absent" not found');
});

test('the body breaking off mid-transfer: "Unable to process data: … unexpected EOF", then a retry succeeds', async () => {
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
  const messages = rec.sequence((o) => condition(o, 'Running')?.message);
  assert.ok(messages.includes('Unable to process data: Unable to transfer source data to scratch space: unexpected EOF'), String(messages));
  assert.is(rec.latest().status.restartCount, 1, 'succeeded on the first restart');
});

test('a URL that starts answering after failures: restartCount kept, Succeeded', async () => {
  server.route('/late.img', (_q, s) => void s.writeHead(404).end());
  const rec = await createDv(httpDataVolume('late', server.url('/late.img')));
  await until('restartCount ≥ 2', () => (rec.latest()?.status?.restartCount ?? 0) >= 2);
  server.route('/late.img', serveBytes(DISK));
  await until('Succeeded', () => phaseOf(rec.latest()) === 'Succeeded');
  assert.ok(rec.latest().status.restartCount >= 2);
  assert.is(rec.latest().status.progress, '100.0%');
});

test('contentType archive with a non-tar body: the untar error', async () => {
  const rec = await createDv(httpDataVolume('archive', server.url('/disk.img'), { spec: { contentType: 'archive' } }));
  await until('Running Error', () => condition(rec.latest(), 'Running')?.reason === 'Error');
  assert.is(
    condition(rec.latest(), 'Running').message,
    'Unable to process data: Unable to transfer source data to target directory: unable to untar files from endpoint: exit status 2',
  );
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

test('pvc clone source: CloneScheduled → CloneInProgress → Succeeded, "Clone Complete"', async () => {
  const rec = await createDv({
    ...httpDataVolume('clone', ''),
    spec: { source: { pvc: { namespace: ns, name: 'golden' } }, storage: { resources: { requests: { storage: '1Gi' } } } },
  });
  await until('Succeeded', () => phaseOf(rec.latest()) === 'Succeeded');
  assert.equal(rec.sequence(phaseOf), ['', 'Pending', 'CloneScheduled', 'CloneInProgress', 'Succeeded']);
  assert.equal([condition(rec.latest(), 'Running').reason, condition(rec.latest(), 'Running').message], ['Completed', 'Clone Complete']);
});

test.run();
