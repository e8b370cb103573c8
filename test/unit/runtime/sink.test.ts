import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudEvent } from 'cloudevents';
import { httpSink, SinkError } from '../../../shared/runtime/sink.js';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  socket: unknown;
}

async function server(status: () => number, delayMs = 0): Promise<{ url: string; got: Received[]; close: () => Promise<void> }> {
  const got: Received[] = [];
  const s = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), socket: req.socket });
      setTimeout(() => {
        res.statusCode = status();
        res.end('ignored body');
      }, delayMs);
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/`,
    got,
    close: () => {
      s.closeAllConnections();
      return new Promise<void>((r) => s.close(() => r()));
    },
  };
}

const event = (traceparent?: string) =>
  new CloudEvent({
    type: 'dev.example.test',
    source: '/unit',
    subject: 'ns/m',
    data: { hello: 'wörld' },
    ...(traceparent ? { traceparent } : {}),
  });

test('binary mode: ce-* headers, the JSON data as the body, traceparent carried as a plain header', async () => {
  const srv = await server(() => 202);
  try {
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await httpSink(srv.url).send(event(tp));
    const [r] = srv.got;
    assert.is(r.headers['ce-type'], 'dev.example.test');
    assert.is(r.headers['ce-subject'], 'ns/m');
    assert.is(r.headers['ce-specversion'], '1.0');
    assert.is(r.headers.traceparent, tp);
    assert.ok(String(r.headers['content-type']).startsWith('application/json'));
    assert.equal(JSON.parse(r.body), { hello: 'wörld' });
    assert.is(Number(r.headers['content-length']), Buffer.byteLength(r.body));
  } finally {
    await srv.close();
  }
});

test('sends reuse one keep-alive connection', async () => {
  const srv = await server(() => 202);
  try {
    const sink = httpSink(srv.url);
    for (let i = 0; i < 3; i++) await sink.send(event());
    assert.is(srv.got.length, 3);
    assert.ok(
      srv.got.every((g) => g.socket === srv.got[0].socket),
      'one TCP connection for all sends',
    );
  } finally {
    await srv.close();
  }
});

test('a non-2xx answer rejects with SinkError naming the status and type', async () => {
  const srv = await server(() => 503);
  try {
    const err = await httpSink(srv.url)
      .send(event())
      .then(
        () => undefined,
        (e) => e,
      );
    assert.instance(err, SinkError);
    assert.match(err.message, /answered 503 for dev\.example\.test/);
  } finally {
    await srv.close();
  }
});

test('an unreachable sink rejects with SinkError', async () => {
  const srv = await server(() => 202);
  await srv.close();
  const err = await httpSink(srv.url)
    .send(event())
    .then(
      () => undefined,
      (e) => e,
    );
  assert.instance(err, SinkError);
  assert.match(err.message, /event sink unreachable: .*ECONNREFUSED/);
});

test('a sink slower than the timeout rejects with SinkError', async () => {
  const srv = await server(() => 202, 300);
  try {
    const err = await httpSink(srv.url, 50)
      .send(event())
      .then(
        () => undefined,
        (e) => e,
      );
    assert.instance(err, SinkError);
    assert.match(err.message, /timed out after 50 ms/);
  } finally {
    await srv.close();
  }
});

test.run();
