/**
 * The receive adapter's watch behaviour (client-go's Reflector inside it), against a scripted
 * fake API server: a real one cannot be made to close a watch, expire a resourceVersion or
 * refuse a streaming list on cue. What the requests look like (a streaming watch-list, no LIST),
 * that a closed watch resumes from the last resourceVersion, that after 410 Gone it lists again
 * without announcing what the new list holds, and that it falls back to LIST + WATCH when the
 * server refuses a watch-list.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startBridge } from '../../../dev/bridge/index.js';
import { apiServerSource, broker, serviceRef, startRecorder, trigger, yamlDocs } from './support.js';

const test = suite('bridge: the adapter against a scripted API server');

const cm = (name: string, rv: number) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'demo', resourceVersion: String(rv), uid: `uid-${name}` },
});
const line = (type: string, object: object) => `${JSON.stringify({ type, object })}\n`;
/** The bookmark that ends a watch-list's initial events. */
const initialEventsEnd = (rv: number) =>
  line('BOOKMARK', {
    kind: 'ConfigMap',
    apiVersion: 'v1',
    metadata: { resourceVersion: String(rv), annotations: { 'k8s.io/initial-events-end': 'true' } },
  });

interface Seen {
  kind: 'discovery' | 'list' | 'watch' | 'watch-list' | 'other';
  rv: string | null;
  labelSelector: string | null;
  auth?: string;
  at: number;
}

type Script = (res: http.ServerResponse) => void;

/** Serves discovery for v1 ConfigMaps, LISTs, and scripted watch responses (the n-th watch gets `watches[n]`). */
async function fakeApiServer(lists: object[], watches: Script[]) {
  const seen: Seen[] = [];
  const open: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const q = url.searchParams;
    const base = { rv: q.get('resourceVersion'), labelSelector: q.get('labelSelector'), auth: req.headers.authorization, at: Date.now() };
    if (url.pathname === '/api/v1') {
      seen.push({ kind: 'discovery', ...base });
      const resources = [
        { name: 'configmaps', singularName: 'configmap', namespaced: true, kind: 'ConfigMap', verbs: ['get', 'list', 'watch'] },
      ];
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ kind: 'APIResourceList', groupVersion: 'v1', resources }));
      return;
    }
    if (url.pathname !== '/api/v1/namespaces/demo/configmaps') {
      seen.push({ kind: 'other', ...base });
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code: 404 }));
      return;
    }
    if (q.get('watch') === 'true' || q.get('watch') === '1') {
      const n = seen.filter((s) => s.kind === 'watch' || s.kind === 'watch-list').length;
      seen.push({ kind: q.get('sendInitialEvents') === 'true' ? 'watch-list' : 'watch', ...base });
      open.push(res);
      const script = watches[n];
      if (script) script(res);
      else res.writeHead(200, { 'content-type': 'application/json' }); // held open until stop
      return;
    }
    const n = seen.filter((s) => s.kind === 'list').length;
    seen.push({ kind: 'list', ...base });
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

const manifests = (selector?: object) =>
  yamlDocs(
    broker('demo'),
    apiServerSource('demo', 'cms', [{ apiVersion: 'v1', kind: 'ConfigMap', ...(selector ? { selector } : {}) }]),
    trigger('demo', 'all', { subscriber: serviceRef('fn') }),
  );

test('a streaming watch-list, no LIST; a closed watch resumes from the last resourceVersion; after 410 the new list is not announced', async () => {
  const api = await fakeApiServer(
    [],
    [
      (res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(line('ADDED', cm('old', 50))); // initial event: never announced
        res.write(initialEventsEnd(100));
        setTimeout(() => {
          res.write(line('ADDED', cm('a', 101)));
          res.end(line('MODIFIED', cm('a', 102))); // server-side close: resume from 102
        }, 200);
      },
      (res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          line('ERROR', {
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            reason: 'Expired',
            code: 410,
            message: 'too old resource version: 102 (180)',
          }),
        );
      },
      (res) => {
        // The list again: `healed` was created while the watch was broken, and stays unannounced.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(line('ADDED', cm('old', 50)));
        res.write(line('ADDED', cm('healed', 160)));
        res.write(initialEventsEnd(200));
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
      manifests({
        matchExpressions: [
          { key: 'tier', operator: 'NotIn', values: ['y', 'x'] },
          { key: 'owned', operator: 'Exists' },
        ],
      }),
    ],
    subscribers: { fn: fn.url },
    log: (l) => log.push(l),
  });
  try {
    await fn.waitFor('delete of a after the gap', (r) => r.headers['ce-type'] === 'dev.knative.apiserver.resource.delete');
    await bridge.idle();
    assert.equal(
      fn.requests.map((r) => `${r.headers['ce-type']!.toString().split('.').pop()} ${r.headers['ce-name']}`),
      ['add a', 'update a', 'add after', 'delete a'],
      'in watch order; old (initial) and healed (relisted) are never announced',
    );
    const requests = api.seen.filter((s) => s.kind !== 'discovery');
    assert.equal(
      requests.map((s) => `${s.kind} ${s.rv ?? '-'}`),
      ['watch-list -', 'watch 102', 'watch-list 102'],
      'watch-list first; resume from the last event; after 410 a watch-list again',
    );
    assert.ok(requests[2]!.at - requests[1]!.at >= 500, `backs off after the 410: ${requests[2]!.at - requests[1]!.at} ms`);
    // clientcmd reads a kubeconfig's credentials only for a TLS server: none over http://.
    assert.ok(
      api.seen.every((s) => s.auth === undefined),
      `no credentials over plain http: ${JSON.stringify(api.seen)}`,
    );
    assert.ok(
      requests.every((s) => s.labelSelector === 'owned,tier notin (x,y)'),
      String(requests[0]!.labelSelector),
    );
    assert.is(fn.requests[0]!.headers['ce-source'], api.url, 'source = the API server URL');
    assert.equal(bridge.stats().adapters[0]!.watching, ['/v1, Resource=configmaps/demo']);
  } finally {
    await bridge.stop();
    await fn.close();
    await api.close();
  }
});

test('a server that refuses watch-list gets LIST + WATCH (the list not announced); stop() ends a held-open watch at once', async () => {
  const api = await fakeApiServer(
    [{ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '7' }, items: [cm('old', 5)] }],
    [
      (res) =>
        res.writeHead(400, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            code: 400,
            message: 'sendInitialEvents is not supported',
          }),
        ),
      (res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(line('ADDED', cm('new', 8))); // left open
      },
    ],
  );
  const fn = await startRecorder();
  const bridge = await startBridge({ kubeconfig: api.kubeconfig, manifests: [manifests()], subscribers: { fn: fn.url }, log: () => {} });
  await fn.waitFor('add of new', (r) => r.headers['ce-name'] === 'new');
  assert.equal(
    api.seen.filter((s) => s.kind !== 'discovery').map((s) => `${s.kind} ${s.rv ?? '-'}`),
    ['watch-list -', 'list 0', 'watch 7'],
  );
  assert.is(fn.forName('old').length, 0);
  const started = Date.now();
  await bridge.stop();
  assert.ok(Date.now() - started < 1000, `stop does not wait for the open watch (${Date.now() - started} ms)`);
  await fn.close();
  await api.close();
});

test.run();
