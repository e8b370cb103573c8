/**
 * KubeClient's writes fail loudly: create and apply ask for fieldValidation=Strict, and the
 * 500 kube-apiserver sends for a server-side apply naming an undeclared field
 * (kubernetes/kubernetes#139253) surfaces as a 400, not as a transient server failure.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, isTransient, KubeClient } from '../../../shared/kube/rest.js';

/** A loopback API stand-in: records each request, answers `status` with a Status `message`. */
async function answering(status: number, message: string) {
  const seen: { method: string; url: URL; contentType?: string }[] = [];
  const s = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: new URL(req.url ?? '/', 'http://x'), contentType: req.headers['content-type'] });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(status < 300 ? { kind: 'Thing' } : { kind: 'Status', status: 'Failure', message, code: status }));
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const client = new KubeClient({ server: `http://127.0.0.1:${(s.address() as AddressInfo).port}` });
  return {
    client,
    seen,
    close: () => {
      client.close();
      s.closeAllConnections();
      return new Promise<void>((r) => s.close(() => r()));
    },
  };
}

test('create and apply send fieldValidation=Strict under our field manager; patch does not', async () => {
  const api = await answering(200, '');
  try {
    await api.client.create('/api/v1/namespaces/n/configmaps', { metadata: { name: 'c' } });
    await api.client.apply('/api/v1/namespaces/n/configmaps/c', { metadata: { name: 'c' } });
    await api.client.patch('/api/v1/namespaces/n/configmaps/c', 'merge', { data: {} });
    assert.equal(
      api.seen.map((r) => [r.method, r.url.searchParams.get('fieldValidation')]),
      [
        ['POST', 'Strict'],
        ['PATCH', 'Strict'],
        ['PATCH', null],
      ],
    );
    assert.is(api.seen[1]!.contentType, 'application/apply-patch+yaml');
    assert.is(api.seen[1]!.url.searchParams.get('force'), 'true');
  } finally {
    await api.close();
  }
});

test('an apply refused with 500 "failed to create typed patch object" is a 400, not transient', async () => {
  const message =
    'failed to create typed patch object (n/dv; cdi.kubevirt.io/v1beta1, Kind=DataVolume): .spec.notACdiField: field not declared in schema';
  const api = await answering(500, message);
  try {
    const err = await api.client.apply('/apis/cdi.kubevirt.io/v1beta1/namespaces/n/datavolumes/dv', {}).catch((e: unknown) => e);
    assert.instance(err, ApiError);
    assert.is((err as ApiError).status, 400);
    assert.match((err as Error).message, '.spec.notACdiField: field not declared in schema');
    assert.not.ok(isTransient(err));
  } finally {
    await api.close();
  }
});

test('any other 500 stays a transient 500', async () => {
  const api = await answering(500, 'etcdserver: request timed out');
  try {
    const err = await api.client.apply('/api/v1/namespaces/n/configmaps/c', {}).catch((e: unknown) => e);
    assert.is((err as ApiError).status, 500);
    assert.ok(isTransient(err));
  } finally {
    await api.close();
  }
});

test.run();
