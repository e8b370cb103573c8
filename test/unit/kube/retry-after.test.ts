/**
 * KubeClient repeats a 429 that carries Retry-After (the API server's "storage is
 * (re)initializing" right after a CRD is created, or API Priority and Fairness), within a
 * bounded budget, and surfaces everything else at once.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, KubeClient, retryAfterMs } from '../../../shared/kube/rest.js';

/** A loopback API stand-in answering from a script, one entry per request (last one repeats). */
async function scripted(answers: { status: number; retryAfter?: string }[]) {
  const seen: { method: string; body: string }[] = [];
  const s = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', body: Buffer.concat(chunks).toString('utf8') });
      const a = answers[Math.min(seen.length - 1, answers.length - 1)];
      const ok = a.status < 300;
      res.writeHead(a.status, {
        'content-type': 'application/json',
        ...(a.retryAfter !== undefined ? { 'retry-after': a.retryAfter } : {}),
      });
      res.end(
        JSON.stringify(
          ok ? { kind: 'Thing', n: seen.length } : { kind: 'Status', reason: 'TooManyRequests', message: 'storage is (re)initializing' },
        ),
      );
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

test('retryAfterMs: only a 429 with delta-seconds', () => {
  const e429 = new ApiError(429, 'TooManyRequests', 'storage is (re)initializing', 'GET', '/x');
  assert.is(retryAfterMs(e429, '1'), 1000);
  assert.is(retryAfterMs(e429, '0'), 100, 'zero still waits a little');
  assert.is(retryAfterMs(e429, undefined), undefined);
  assert.is(retryAfterMs(e429, 'Wed, 21 Oct 2015 07:28:00 GMT'), undefined, 'HTTP dates are not what the API server sends');
  assert.is(retryAfterMs(new ApiError(503, 'ServiceUnavailable', 'x', 'GET', '/x'), '1'), undefined, 'a 5xx may have been processed');
  assert.is(retryAfterMs(new Error('network'), '1'), undefined);
});

test('a 429 with Retry-After is sent again, body and all, and then succeeds', async () => {
  const api = await scripted([{ status: 429, retryAfter: '0' }, { status: 429, retryAfter: '0' }, { status: 201 }]);
  try {
    const got = await api.client.request<{ n: number }>('POST', '/api/v1/namespaces/n/things', { body: { a: 1 } });
    assert.is(got.n, 3);
    assert.equal(
      api.seen.map((s) => s.method),
      ['POST', 'POST', 'POST'],
    );
    assert.ok(
      api.seen.every((s) => s.body === '{"a":1}'),
      'the same body each time',
    );
    assert.is(api.client.requestCount, 3, 'every attempt is counted');
  } finally {
    await api.close();
  }
});

test('a 429 without Retry-After surfaces at once', async () => {
  const api = await scripted([{ status: 429 }, { status: 200 }]);
  try {
    const err = await api.client.request('GET', '/x').catch((e: unknown) => e);
    assert.instance(err, ApiError);
    assert.is((err as ApiError).status, 429);
    assert.is(api.seen.length, 1);
  } finally {
    await api.close();
  }
});

test('the waits are bounded: past the budget the 429 surfaces', async () => {
  const api = await scripted([{ status: 429, retryAfter: '0' }]);
  api.client.retryAfterBudgetMs = 250;
  try {
    const err = await api.client.request('GET', '/x').catch((e: unknown) => e);
    assert.instance(err, ApiError);
    assert.is((err as ApiError).status, 429);
    assert.is(api.seen.length, 3, '100 ms + 100 ms fit in 250 ms, a third wait does not');
  } finally {
    await api.close();
  }
});

test.run();
