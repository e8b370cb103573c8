/**
 * The event body bound (shared/runtime/body-limit.ts, boundedBodies in handler.ts) on a plain
 * node:http server: refused with 413 from the declared length before a byte is read, or as soon
 * as a chunked body passes the bound; the rest left unread and the connection closed after the
 * linger; the answer always reaches a client that is still sending.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { DEFAULT_MAX_EVENT_BYTES, maxEventBytesFromEnv } from '../../../shared/runtime/body-limit.js';
import { boundedBodies, cloudEventHandler } from '../../../shared/runtime/handler.js';
import { createLogger } from '../../../shared/runtime/log.js';
import { done } from '../../../shared/runtime/outcome.js';

const LIMIT = 64 * 1024;
const quiet = createLogger({}, () => {});

interface Server {
  port: number;
  /** Bodies the wrapped listener received (rawBody). */
  passed: Buffer[];
  close(): Promise<void>;
}

async function boundedServer(lingerMs = 300): Promise<Server> {
  const passed: Buffer[] = [];
  const bounded = boundedBodies(
    (req, res) => {
      passed.push((req as { rawBody?: Buffer }).rawBody!);
      res.end('passed');
    },
    { maxEventBytes: LIMIT, log: quiet, lingerMs },
  );
  const server = http.createServer((req, res) => bounded(req, res));
  server.on('checkContinue', (req, res) => bounded(req, res, true));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    passed,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

interface RawExchange {
  /** Everything the server sent. */
  answer: string;
  /** Body bytes written before the answer arrived. */
  writtenAtAnswer: number;
  /** ms from the answer to the connection's end (FIN or reset). */
  closedAfterMs: number;
}

/**
 * A raw HTTP/1.1 client that keeps sending `total` body bytes in 16 KiB steps (chunked or with
 * a Content-Length) and records when the answer arrives and when the connection ends.
 */
function rawPost(
  port: number,
  total: number,
  opts: { chunked?: boolean; declared?: number; headers?: string[]; hangUpOnAnswer?: boolean } = {},
): Promise<RawExchange> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let answer = '';
    let written = 0;
    let writtenAtAnswer = -1;
    let answeredAt = 0;
    const step = Buffer.alloc(16 * 1024, 'x');
    s.on('data', (d) => {
      if (writtenAtAnswer < 0) {
        writtenAtAnswer = written;
        answeredAt = Date.now();
      }
      answer += d.toString('latin1');
      if (opts.hangUpOnAnswer) s.destroy();
    });
    s.on('error', () => {});
    s.on('close', () => resolve({ answer, writtenAtAnswer, closedAfterMs: answeredAt ? Date.now() - answeredAt : -1 }));
    const head = [
      'POST / HTTP/1.1',
      'Host: test',
      'Content-Type: application/json',
      opts.chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${opts.declared ?? total}`,
      ...(opts.headers ?? []),
    ];
    s.write(`${head.join('\r\n')}\r\n\r\n`);
    const tick = setInterval(() => {
      if (s.destroyed || written >= total || writtenAtAnswer >= 0) return clearInterval(tick);
      s.write(opts.chunked ? Buffer.concat([Buffer.from(`${step.length.toString(16)}\r\n`), step, Buffer.from('\r\n')]) : step);
      written += step.length;
    }, 2);
  });
}

const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d+)/.exec(answer)?.[1]);

test('MAX_EVENT_BYTES: default 3 MiB; a positive whole number of bytes, else start-up fails', () => {
  assert.is(DEFAULT_MAX_EVENT_BYTES, 3 * 1024 * 1024);
  assert.is(maxEventBytesFromEnv({}), DEFAULT_MAX_EVENT_BYTES);
  assert.is(maxEventBytesFromEnv({ MAX_EVENT_BYTES: '' }), DEFAULT_MAX_EVENT_BYTES);
  assert.is(maxEventBytesFromEnv({ MAX_EVENT_BYTES: '1048576' }), 1048576);
  for (const bad of ['0', '-1', '1.5', '3MiB', 'lots', '1e6']) {
    assert.throws(() => maxEventBytesFromEnv({ MAX_EVENT_BYTES: bad }), /MAX_EVENT_BYTES must be a positive whole number/, bad);
  }
});

test('a body within the bound is handed on whole, in rawBody', async () => {
  const s = await boundedServer();
  try {
    for (const size of [0, 10, LIMIT]) {
      const body = Buffer.alloc(size, 'a');
      const res = await fetch(`http://127.0.0.1:${s.port}/`, { method: 'POST', body });
      assert.is(res.status, 200);
      assert.is(await res.text(), 'passed');
      assert.equal(s.passed.at(-1), body);
    }
    // chunked, in pieces
    const res = await fetch(`http://127.0.0.1:${s.port}/`, {
      method: 'POST',
      body: new ReadableStream({
        start(c) {
          for (let i = 0; i < 4; i++) c.enqueue(new Uint8Array(LIMIT / 4).fill(98));
          c.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    assert.is(res.status, 200);
    assert.is(s.passed.at(-1)!.length, LIMIT);
  } finally {
    await s.close();
  }
});

test('declared length over the bound: 413 before the body is read; the connection closes after the linger', async () => {
  const s = await boundedServer(300);
  try {
    const x = await rawPost(s.port, 8 * 1024 * 1024);
    assert.is(statusOf(x.answer), 413, x.answer);
    assert.match(x.answer, /"outcome":"oversized"/);
    assert.ok(x.writtenAtAnswer < 8 * 1024 * 1024, `answered while the client was still sending (${x.writtenAtAnswer} bytes written)`);
    assert.ok(x.closedAfterMs >= 250 && x.closedAfterMs < 2000, `closed ${x.closedAfterMs} ms after the answer`);
    assert.is(s.passed.length, 0, 'nothing handed on');
  } finally {
    await s.close();
  }
});

test('chunked body passing the bound: 413 as soon as it does, the rest left unread', async () => {
  const s = await boundedServer(300);
  try {
    const x = await rawPost(s.port, 8 * 1024 * 1024, { chunked: true });
    assert.is(statusOf(x.answer), 413, x.answer);
    assert.ok(x.writtenAtAnswer <= LIMIT + 64 * 1024, `answered right after the bound (${x.writtenAtAnswer} bytes written)`);
    assert.ok(x.closedAfterMs >= 250 && x.closedAfterMs < 2000, `closed ${x.closedAfterMs} ms after the answer`);
    assert.is(s.passed.length, 0, 'nothing handed on');
  } finally {
    await s.close();
  }
});

test('Expect: 100-continue over the bound: 413 instead of 100 Continue; within it: 100, then handed on', async () => {
  const s = await boundedServer();
  try {
    const over = await rawPost(s.port, 0, { declared: LIMIT + 1, headers: ['Expect: 100-continue'] });
    assert.is(statusOf(over.answer), 413, over.answer);
    assert.not.match(over.answer, /100 Continue/);
    const ok = await new Promise<number>((resolve, reject) => {
      const req = http.request({
        port: s.port,
        host: '127.0.0.1',
        method: 'POST',
        headers: { expect: '100-continue', 'content-length': 5 },
      });
      req.on('continue', () => req.end('hello'));
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
    });
    assert.is(ok, 200);
    assert.equal(s.passed.at(-1), Buffer.from('hello'));
  } finally {
    await s.close();
  }
});

test('a compressed body is refused (400): it would have to be inflated past the bound unseen', async () => {
  const s = await boundedServer();
  try {
    const res = await fetch(`http://127.0.0.1:${s.port}/`, { method: 'POST', headers: { 'content-encoding': 'gzip' }, body: 'abc' });
    const text = await res.text();
    assert.is(res.status, 400, text);
    assert.match(text, /Content-Encoding \\"gzip\\" is not supported/);
    assert.is(s.passed.length, 0);
  } finally {
    await s.close();
  }
});

test('the handler itself bounds bodies (plain node:http, or a rawBody already read by functions-framework)', async () => {
  let reconciled = 0;
  const handler = cloudEventHandler(
    'test',
    async () => {
      reconciled++;
      return done();
    },
    quiet,
    LIMIT,
  );
  const server = http.createServer((req, res) => void handler(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  try {
    const x = await rawPost(port, 8 * 1024 * 1024, { chunked: true, hangUpOnAnswer: true });
    assert.is(statusOf(x.answer), 413, x.answer);
    const readWhole = Object.assign(new http.IncomingMessage(new net.Socket()), { method: 'POST', rawBody: Buffer.alloc(LIMIT + 1) });
    let status = 0;
    await handler(readWhole, {
      setHeader() {},
      write() {},
      end() {},
      set statusCode(v: number) {
        status = v;
      },
    } as unknown as http.ServerResponse);
    assert.is(status, 413);
    assert.is(reconciled, 0);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test.run();
