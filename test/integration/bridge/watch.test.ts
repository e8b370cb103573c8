/**
 * Watch robustness against a scripted fake API server (a real one cannot be made to close a
 * watch, expire a resourceVersion or fail on cue): reconnect from the last resourceVersion,
 * relist on 410 Gone without emitting what the relist healed, back off after errors.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startBridge } from '../../../dev/bridge/index.js';
import { apiServerSource, broker, serviceRef, startRecorder, trigger, yamlDocs } from './support.js';

const test = suite('bridge: watch robustness');

const cm = (name: string, rv: number) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'demo', resourceVersion: String(rv), uid: `uid-${name}` },
});
const line = (type: string, object: object) => `${JSON.stringify({ type, object })}\n`;

interface Seen {
  kind: 'list' | 'watch';
  rv?: string;
  at: number;
  auth?: string;
  labelSelector?: string | null;
}

/** Serves LISTs and scripted WATCH responses; `watches[n]` handles the n-th watch request. */
async function fakeApiServer(lists: object[], watches: ((res: http.ServerResponse) => void)[]) {
  const seen: Seen[] = [];
  const open: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const auth = req.headers.authorization;
    if (url.pathname !== '/api/v1/namespaces/demo/configmaps') {
      res.writeHead(404).end();
      return;
    }
    if (url.searchParams.get('watch') === '1') {
      const n = seen.filter((s) => s.kind === 'watch').length;
      seen.push({
        kind: 'watch',
        rv: url.searchParams.get('resourceVersion') ?? undefined,
        at: Date.now(),
        auth,
        labelSelector: url.searchParams.get('labelSelector'),
      });
      open.push(res);
      const script = watches[n];
      if (script) script(res);
      else res.writeHead(200, { 'content-type': 'application/json' }); // held open until stop
      return;
    }
    const n = seen.filter((s) => s.kind === 'list').length;
    seen.push({ kind: 'list', at: Date.now(), auth, labelSelector: url.searchParams.get('labelSelector') });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(lists[Math.min(n, lists.length - 1)]));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfig = yamlDocs({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'fake', cluster: { server: url } }],
    users: [{ name: 'u', user: { token: 'test-token' } }],
    contexts: [{ name: 'c', context: { cluster: 'fake', user: 'u' } }],
    'current-context': 'c',
  });
  return {
    url,
    kubeconfig,
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const res of open) res.destroy();
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

test('reconnects from the last resourceVersion, relists on 410 without replaying, backs off after a 500', async () => {
  const list = (rv: number, items: object[] = []) => ({
    kind: 'ConfigMapList',
    apiVersion: 'v1',
    metadata: { resourceVersion: String(rv) },
    items,
  });
  const api = await fakeApiServer(
    // The second LIST (after 410) holds an object created while the watch was broken: healed, never announced.
    [list(100, [cm('old', 50)]), list(200, [cm('old', 50), cm('healed', 160)])],
    [
      (res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(line('ADDED', cm('a', 101)));
        res.end(line('MODIFIED', cm('a', 102))); // server-side close: reconnect from 102
      },
      (res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(line('BOOKMARK', { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: '150' } }));
        res.end(
          line('ERROR', {
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            reason: 'Expired',
            code: 410,
            message: 'too old resource version: 150 (180)',
          }),
        );
      },
      (res) =>
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end(JSON.stringify({ kind: 'Status', code: 500, message: 'etcd hiccup' })),
      (res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(line('ADDED', cm('after', 201)));
        res.write(line('DELETED', cm('a', 202))); // left open
      },
    ],
  );
  const fn = await startRecorder();
  const log: string[] = [];
  const bridge = await startBridge({
    kubeconfig: api.kubeconfig,
    manifests: [
      yamlDocs(
        broker('demo'),
        apiServerSource('demo', 'cms', [
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            selector: {
              matchExpressions: [
                { key: 'tier', operator: 'NotIn', values: ['x', 'y'] },
                { key: 'owned', operator: 'Exists' },
              ],
            },
          },
        ]),
        trigger('demo', 'all', { subscriber: serviceRef('fn') }),
      ),
    ],
    subscribers: { fn: fn.url },
    log: (l) => log.push(l),
    watch: { backoff: { initialMs: 150, maxMs: 1000 } },
  });
  try {
    await fn.waitFor('delete of a after the gap', (r) => r.headers['ce-type'] === 'dev.knative.apiserver.resource.delete');
    await bridge.idle();
    assert.equal(
      fn.requests.map((r) => `${r.headers['ce-type']!.toString().split('.').pop()} ${r.headers['ce-name']}`).sort(),
      ['add a', 'add after', 'delete a', 'update a'],
      'old (pre-existing) and healed (relisted) are never announced',
    );
    const watches = api.seen.filter((s) => s.kind === 'watch');
    assert.equal(
      watches.map((w) => w.rv),
      ['100', '102', '200', '200'],
      'watch from the LIST, resume from the last event, relist after 410, retry after 500',
    );
    assert.is(api.seen.filter((s) => s.kind === 'list').length, 2);
    assert.ok(watches[3]!.at - watches[2]!.at >= 140, `backoff after the 500: ${watches[3]!.at - watches[2]!.at} ms`);
    assert.ok(api.seen.every((s) => s.auth === 'Bearer test-token'));
    assert.ok(
      api.seen.every((s) => s.labelSelector === 'tier notin (x,y),owned'),
      String(api.seen[0]!.labelSelector),
    );
    const stats = bridge.stats().watches[0]!;
    assert.equal(
      [stats.path, stats.lists, stats.relistsAfterGone, stats.errors, stats.resourceVersion],
      ['/api/v1/namespaces/demo/configmaps', 2, 1, 1, '202'],
    );
    assert.ok(
      log.some((l) => l.includes('is gone (410); relisting')),
      log.join('\n'),
    );
    assert.is(fn.requests[0]!.headers['ce-source'], api.url);
  } finally {
    await bridge.stop();
    await fn.close();
    await api.close();
  }
});

test('a watch refused with HTTP 410 relists; stop() ends a watch that is held open', async () => {
  const api = await fakeApiServer(
    [{ kind: 'ConfigMapList', metadata: { resourceVersion: '7' }, items: [] }],
    [
      (res) =>
        res.writeHead(410, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code: 410, reason: 'Gone' })),
    ],
  );
  const bridge = await startBridge({
    kubeconfig: api.kubeconfig,
    manifests: [
      yamlDocs(
        apiServerSource('demo', 'cms', [{ apiVersion: 'v1', kind: 'ConfigMap' }]),
        trigger('demo', 'all', { subscriber: { uri: 'http://127.0.0.1:9/' } }),
      ),
    ],
    subscribers: {},
    log: () => {},
  });
  const deadline = Date.now() + 5000;
  while (api.seen.filter((s) => s.kind === 'watch').length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(
    api.seen.map((s) => s.kind),
    ['list', 'watch', 'list', 'watch'],
  );
  const started = Date.now();
  await bridge.stop();
  assert.ok(Date.now() - started < 1000, 'stop does not wait for the open watch');
  await api.close();
});

test.run();
