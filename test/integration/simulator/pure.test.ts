/**
 * The simulator's pure parts, without a cluster: CDI's condition bookkeeping, KubeVirt's
 * printableStatus precedence and run strategies, the address pool, how CDI reads a terminated
 * importer (termination message, progress metric), and the informer's recovery (410 Gone →
 * relist, errors → relist after backoff) against a fake API.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { dvStatus, importerError, NOT_RUNNING, POD_RUNNING, updateCondition } from '../../../dev/simulator/cdi/dv-status.js';
import { outcomeOf, progressFromMetrics, simplifyKnownMessage, terminatedState } from '../../../dev/simulator/cdi/termination.js';
import { missingManifestMessage } from '../../../dev/simulator/cdi/dv-flavor.js';
import { Informer } from '../../../dev/simulator/kube/informer.js';
import type { KubeApi } from '../../../dev/simulator/kube/api.js';
import { IpPool, macFor } from '../../../dev/simulator/kubevirt/ip-pool.js';
import { runStrategyOf, startStopAction } from '../../../dev/simulator/kubevirt/run-strategy.js';
import { printableStatus } from '../../../dev/simulator/kubevirt/vm-status.js';
import { Lifetime } from '../../../dev/simulator/lifetime.js';
import { DEFAULT_TIMINGS, restartDelay } from '../../../dev/simulator/options.js';
import { StatsRecorder } from '../../../dev/simulator/stats.js';
import { DATA_VOLUME } from '../../../shared/kube/paths.js';
import { KubeClient } from '../../../shared/kube/rest.js';

const test = suite('simulator: pure parts');

test('CDI updateCondition: transition time only on status change, heartbeat on text change', () => {
  let c = updateCondition([], 'Running', 'True', '', 'Pod is running', 't1');
  assert.equal(c, [{ type: 'Running', status: 'True', reason: 'Pod is running', lastTransitionTime: 't1', lastHeartbeatTime: 't1' }]);
  c = updateCondition(c, 'Running', 'True', '', 'Pod is running', 't2');
  assert.is(c[0]!.lastHeartbeatTime, 't1', 'unchanged → untouched');
  c = updateCondition(c, 'Running', 'False', 'boom', 'Error', 't3');
  assert.equal([c[0]!.lastTransitionTime, c[0]!.message], ['t3', 'boom']);
  c = updateCondition(c, 'Running', 'False', 'boom 2', 'Error', 't4');
  assert.equal([c[0]!.lastTransitionTime, c[0]!.lastHeartbeatTime], ['t3', 't4']);
});

test('dvStatus: Pending, in progress (TransferRunning), failure rewriting "no space left"', () => {
  const pending = dvStatus('d', undefined, { phase: 'Pending', restartCount: 0, bound: false, running: NOT_RUNNING }, 't') as any;
  assert.equal(
    pending.conditions.map((c: any) => [c.type, c.status, c.reason, c.message]),
    [
      ['Bound', 'False', 'Pending', 'PVC d Pending'],
      ['Ready', 'False', undefined, undefined],
      ['Running', 'False', undefined, undefined],
    ],
  );
  assert.is(pending.progress, 'N/A');
  const running = dvStatus(
    'd',
    pending,
    { phase: 'ImportInProgress', progress: '12.50%', restartCount: 2, bound: true, running: POD_RUNNING },
    't2',
  ) as any;
  assert.is(running.conditions.find((c: any) => c.type === 'Ready').reason, 'TransferRunning');
  assert.is(running.restartCount, 2);
  const full = importerError('Unable to process data: write /data/disk.img: no space left on device');
  assert.is(full.message, 'DataVolume too small to contain image');
});

test('printableStatus precedence', () => {
  const dv = (phase: string, running?: any) => ({
    metadata: { name: 'r' },
    status: { phase, conditions: running ? [running] : [{ type: 'Bound', status: 'True' }] },
  });
  const vm = (extra: any = {}) => ({
    metadata: { name: 'v', ...extra },
    spec: { template: { spec: { volumes: [{ name: 'r', dataVolume: { name: 'r' } }] } } },
  });
  const base = { strategy: 'Always', syncError: undefined, now: 't' };
  assert.is(printableStatus({ ...base, vm: vm(), vmi: undefined, dataVolume: () => dv('ImportInProgress') }), 'Provisioning');
  assert.is(
    printableStatus({
      ...base,
      vm: vm(),
      vmi: undefined,
      dataVolume: () => dv('ImportInProgress', { type: 'Running', status: 'False', reason: 'Error', message: 'x' }),
    }),
    'DataVolumeError',
  );
  assert.is(
    printableStatus({
      ...base,
      vm: vm(),
      vmi: undefined,
      dataVolume: () => dv('ImportScheduled', { type: 'Running', status: 'False', reason: 'ImagePullFailed' }),
    }),
    'DataVolumeError',
  );
  assert.is(printableStatus({ ...base, vm: vm(), vmi: undefined, dataVolume: () => dv('Succeeded') }), 'Starting');
  assert.is(
    printableStatus({ ...base, vm: vm(), vmi: { metadata: {}, status: { phase: 'Running' } }, dataVolume: () => dv('Succeeded') }),
    'Running',
  );
  assert.is(
    printableStatus({
      ...base,
      strategy: 'Halted',
      vm: vm(),
      vmi: { metadata: {}, status: { phase: 'Running' } },
      dataVolume: () => dv('Succeeded'),
    }),
    'Stopping',
  );
  assert.is(printableStatus({ ...base, strategy: 'Halted', vm: vm(), vmi: undefined, dataVolume: () => dv('Succeeded') }), 'Stopped');
  assert.is(printableStatus({ ...base, vm: vm({ deletionTimestamp: 'x' }), vmi: undefined, dataVolume: () => undefined }), 'Terminating');
});

test('run strategies', () => {
  assert.equal(runStrategyOf({ spec: { running: true } }), { ok: true, strategy: 'Always' });
  assert.equal(runStrategyOf({ spec: {} }), { ok: true, strategy: 'Halted' });
  assert.is(runStrategyOf({ spec: { running: false, runStrategy: 'Always' } }).ok, false);
  const failed = { metadata: {}, status: { phase: 'Failed' } };
  const succeeded = { metadata: {}, status: { phase: 'Succeeded' } };
  assert.equal(
    [
      startStopAction('Always', failed),
      startStopAction('RerunOnFailure', failed),
      startStopAction('RerunOnFailure', succeeded),
      startStopAction('Once', failed),
      startStopAction('Manual', undefined),
      startStopAction('Sometimes', undefined),
    ],
    ['delete', 'delete', 'none', 'none', 'none', 'unknown'],
  );
  assert.equal(
    [restartDelay(DEFAULT_TIMINGS, 1), restartDelay(DEFAULT_TIMINGS, 3), restartDelay(DEFAULT_TIMINGS, 30)],
    [1_000, 4_000, 10_000],
  );
});

test('IpPool: unique, stable per owner, reserved addresses skipped, released on delete', () => {
  const pool = new IpPool('10.0.0.0/29'); // .2–.6 usable
  pool.reserve('old', ['10.0.0.2']);
  const a = pool.allocate('a', 1);
  assert.equal(a, ['10.0.0.3']);
  assert.equal(pool.allocate('a', 1), a, 'stable');
  const b = pool.allocate('b', 3);
  assert.equal(b, ['10.0.0.4', '10.0.0.5', '10.0.0.6']);
  assert.throws(() => pool.allocate('c', 1), /exhausted/);
  pool.release('a');
  assert.equal(pool.allocate('c', 1), ['10.0.0.3']);
  assert.is(macFor('10.244.1.2'), '02:00:0a:f4:01:02');
  assert.throws(() => new IpPool('fd00::/64'), /IPv4/);
});

test("registry failure wording (containers/image's missing manifest, wrapped as CDI's importer wraps it)", () => {
  assert.match(missingManifestMessage('quay.io/x/notfound:1'), /reading manifest 1 in quay\.io\/x\/notfound: manifest unknown$/);
  // A golden pins its image to the digest: the digest is the reference, the port's ':' no tag.
  const digest = `sha256:${'ab'.repeat(32)}`;
  assert.match(
    missingManifestMessage(`127.0.0.1:5000/x/notfound@${digest}`),
    `initializing source docker://127.0.0.1:5000/x/notfound@${digest}: reading manifest ${digest} in 127.0.0.1:5000/x/notfound: manifest unknown`,
  );
  assert.match(missingManifestMessage('127.0.0.1:5000/x/notfound'), /reading manifest latest in 127\.0\.0\.1:5000\/x\/notfound:/);
});

test("the kubelet's terminated state: the termination-message file, else (FallbackToLogsOnError, failure only) the log's tail", () => {
  assert.equal(terminatedState(1, 'Unable to connect to http data source: boom', 'log'), {
    exitCode: 1,
    reason: 'Error',
    message: 'Unable to connect to http data source: boom',
  });
  assert.equal(terminatedState(0, '{"message":"Import Complete"}', ''), {
    exitCode: 0,
    reason: 'Completed',
    message: '{"message":"Import Complete"}',
  });
  const log = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n') + '\n';
  const fallback = terminatedState(2, '', log).message;
  assert.ok(fallback.startsWith('line 20\n') && fallback.endsWith('line 99'), 'the last 80 lines');
  assert.is(terminatedState(2, '', 'x'.repeat(5000)).message.length, 2048, 'at most 2048 bytes of log');
  assert.is(terminatedState(0, '', 'log').message, '', 'no fallback on success');
  assert.is(terminatedState(1, 'y'.repeat(5000), '').message.length, 4096, 'the file is read up to 4096 bytes');
});

test("CDI's reading of a terminated importer: JSON on exit 0, plain text otherwise, checksum mismatch fatal", () => {
  const ok = outcomeOf({ exitCode: 0, reason: 'Completed', message: '{"scratchSpaceRequired":false,"message":"Import Complete"}' });
  assert.equal(ok, { kind: 'succeeded', running: { status: 'False', reason: 'Completed', message: 'Import Complete' } });
  const sum = outcomeOf({ exitCode: 0, reason: 'Completed', message: '{"message":"Unable to process data: checksum mismatch: x"}' });
  assert.equal(sum, {
    kind: 'fatal',
    running: { status: 'False', reason: 'ChecksumError', message: 'Unable to process data: checksum mismatch: x' },
  });
  const small = outcomeOf({
    exitCode: 1,
    reason: 'Error',
    message: 'Unable to process data: virtual image size 2 is larger than the reported available storage 1. A larger PVC is required',
  });
  assert.equal(small, { kind: 'failed', running: { status: 'False', reason: 'Error', message: 'DataVolume too small to contain image' } });
  assert.equal(outcomeOf({ exitCode: 1, reason: 'Error', message: 'failed to pull image: x' }).running.reason, 'ImagePullFailed');
  assert.is(simplifyKnownMessage('write /data/disk.img: no space left on device'), 'DataVolume too small to contain image');
  assert.is(simplifyKnownMessage('file largest block is bigger than maxblock'), 'DataVolume too small to contain image');
});

test("progress as CDI's controller reads the importer's metric text", () => {
  const text = (v: string) =>
    `# HELP kubevirt_cdi_import_progress_total The import progress in percentage\n# TYPE kubevirt_cdi_import_progress_total counter\nkubevirt_cdi_import_progress_total{ownerUID="u-1"} ${v}\n`;
  assert.is(progressFromMetrics(text('45.3412'), 'u-1'), '45.34%');
  assert.is(progressFromMetrics(text('100'), 'u-1'), '100.00%');
  assert.is(progressFromMetrics(text('0'), 'u-1'), '0.00%');
  assert.is(progressFromMetrics(text('45.3'), 'other'), undefined, 'another owner');
  // CDI's expression takes the digits before an exponent: a tiny value reads as "1.00%".
  assert.is(progressFromMetrics(text('1e-05'), 'u-1'), '1.00%');
});

test('Informer: 410 Gone → immediate relist, other errors → relist after backoff, vanished objects → DELETED', async () => {
  const dv = (name: string, rv: string) => ({ metadata: { name, namespace: 'n', uid: `u-${name}`, resourceVersion: rv } });
  const lists = [[dv('a', '1'), dv('b', '1')], [dv('a', '5')], [dv('a', '6')]];
  let listCalls = 0;
  let watchCalls = 0;
  const line = (type: string, object: object) => `${JSON.stringify({ type, object })}\n`;
  // A fake API server: LISTs from `lists`, then scripted watches (the third held open).
  const server = http.createServer((req, res) => {
    if (new URL(req.url ?? '/', 'http://fake').searchParams.get('watch') !== '1') {
      listCalls++;
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(
        JSON.stringify({ items: lists[Math.min(listCalls - 1, lists.length - 1)], metadata: { resourceVersion: String(listCalls * 10) } }),
      );
    }
    watchCalls++;
    if (watchCalls === 2) return void req.socket.destroy(); // connection reset
    res.writeHead(200, { 'content-type': 'application/json' });
    if (watchCalls === 1) {
      res.write(line('MODIFIED', dv('a', '3')));
      res.write(line('MODIFIED', dv('a', '2'))); // older: ignored
      res.end(line('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' }));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const kube = new KubeClient({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  const api: KubeApi = { request: (m, p, o) => kube.request(m, p, o), kube, close: () => kube.close() };
  const life = new Lifetime();
  const stats = new StatsRecorder();
  const inf = new Informer(DATA_VOLUME, api, life, { ...DEFAULT_TIMINGS, watchRetryMs: 10 }, stats, () => {});
  const events: string[] = [];
  inf.on((t, o) => events.push(`${t} ${o.metadata.name}@${o.metadata.resourceVersion}`));
  await inf.start(['n']);
  // The third watch opens after the third LIST has been applied.
  for (let i = 0; i < 100 && watchCalls < 3; i++) await new Promise((r) => setTimeout(r, 10));
  await life.stop();
  api.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  assert.equal(events, ['ADDED a@1', 'ADDED b@1', 'MODIFIED a@3', 'MODIFIED a@5', 'DELETED b@1', 'MODIFIED a@6']);
  assert.is(stats.snapshot({ virtualMachines: 0, virtualMachineInstances: 0, dataVolumes: 0 }, 0).watchErrors, 1);
});

test.run();
