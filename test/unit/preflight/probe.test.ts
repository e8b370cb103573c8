/**
 * probeImage against real HTTP servers started here. Loopback is refused by default, so the
 * tests pass an allow-list with 127.0.0.0/8 (what `npm start`'s embedded mode does).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { probeImage, type ProbeOptions, type ProbeResult } from '../../../shared/preflight/probe.js';
import { parseCidrList } from '../../../shared/preflight/refused.js';
import { SNIFF_BYTES } from '../../../shared/image/sniff.js';
import { closedPort, endless, file, hang, redirect, startServer, status, type TestServer } from './server.js';

const LOOPBACK = parseCidrList('127.0.0.0/8', 'test');
/** Names the tests use; anything else fails like getaddrinfo. System DNS is never asked. */
const resolve = async (host: string): Promise<string[]> => {
  if (host === 'images.test' || host === 'other.test') return ['127.0.0.1'];
  if (host === 'metadata.test') return ['169.254.169.254'];
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
};
const opts = (extra: Partial<ProbeOptions> = {}): ProbeOptions => ({ resolve, allow: LOOPBACK, timeoutMs: 3000, ...extra });

const big = randomBytes(1024 * 1024);
const small = randomBytes(100);
let srv: TestServer;

test.before(async () => {
  srv = await startServer({
    '/ranged': file(big),
    '/plain': file(big, { range: false }),
    '/small': file(small),
    '/identified': (req, res) => {
      res.setHeader('etag', '"v2-abc"');
      res.setHeader('last-modified', 'Tue, 01 Dec 2026 10:00:00 GMT');
      file(big)(req, res);
    },
    '/endless': endless,
    '/gone': status(410),
    '/forbidden': status(403),
    '/bad-request': status(400),
    '/teapot-ish': status(204),
    '/boom': status(500),
    '/busy': status(429),
    '/slow': hang,
    '/r1': redirect('/ranged'),
    '/r2': redirect('/r1', 301),
    '/r3': redirect('/r2', 307),
    '/r4': redirect('/r3', 308),
    '/no-location': status(302),
    '/to-metadata': redirect('http://169.254.169.254/latest/meta-data/'),
    '/to-metadata-name': redirect('http://metadata.test/'),
    '/to-ipv6-loopback': redirect('http://[::1]:1/disk.img'),
    '/to-ftp': redirect('ftp://images.test/disk.img'),
    '/to-other': (req, res) => void res.writeHead(302, { location: `http://other.test:${srv.port}/auth-echo` }).end(),
    '/to-self': (req, res) => void res.writeHead(302, { location: `http://images.test:${srv.port}/auth-echo` }).end(),
    '/auth-echo': file(small),
    '/private': (req, res) => {
      if (req.headers.authorization !== `Basic ${Buffer.from('user:pass').toString('base64')}`)
        return void res.writeHead(401, { 'www-authenticate': 'Basic' }).end();
      file(small)(req, res);
    },
    '/no-ranges': (req, res) => (req.headers.range ? void res.writeHead(416).end() : file(small, { range: false })(req, res)),
    '/cut-short': (_req, res) => {
      res.writeHead(200, { 'content-length': 100_000 });
      res.write(Buffer.alloc(10));
      setTimeout(() => res.destroy(), 20);
    },
  });
});
test.after(() => srv.close());

const ok = (r: ProbeResult) => {
  if (r.kind !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return r;
};

test('206: the Range header is sent and honoured; size from Content-Range', async () => {
  const r = ok(await probeImage(srv.url('/ranged'), opts()));
  assert.is(r.status, 206);
  assert.is(r.bytes.length, SNIFF_BYTES);
  assert.ok(Buffer.from(r.bytes).equals(big.subarray(0, SNIFF_BYTES)));
  assert.is(r.size, big.length);
  assert.is(srv.seen.at(-1)!.headers.range, `bytes=0-${SNIFF_BYTES - 1}`);
});

test('200 with the whole file: read up to the cap, then stop; a file shorter than the cap comes whole', async () => {
  const r = ok(await probeImage(srv.url('/plain'), opts()));
  assert.is(r.status, 200);
  assert.ok(Buffer.from(r.bytes).equals(big.subarray(0, SNIFF_BYTES)));
  assert.is(r.size, big.length);
  const capped = ok(await probeImage(srv.url('/plain'), opts({ maxBytes: 1000 })));
  assert.is(capped.bytes.length, 1000);
  const whole = ok(await probeImage(srv.url('/small'), opts()));
  assert.ok(Buffer.from(whole.bytes).equals(small));
});

test('a body that never ends: the cap closes the socket instead of reading forever', async () => {
  const t0 = Date.now();
  const r = ok(await probeImage(srv.url('/endless'), opts()));
  assert.is(r.bytes.length, SNIFF_BYTES);
  assert.ok(Date.now() - t0 < 2000);
});

test('404/410 → permanent ImageNotFound naming the status; 401/403 → ImageAccessDenied; other 4xx and odd 2xx permanent', async () => {
  const r404 = await probeImage(srv.url('/missing.img'), opts());
  assert.equal(r404, {
    kind: 'permanent',
    reason: 'ImageNotFound',
    status: 404,
    message: `image URL ${srv.url('/missing.img')} answered 404 Not Found`,
  });
  const r410 = await probeImage(srv.url('/gone'), opts());
  assert.ok(r410.kind === 'permanent' && r410.reason === 'ImageNotFound' && r410.message.endsWith('answered 410 Gone'));
  const r403 = await probeImage(srv.url('/forbidden'), opts());
  assert.ok(r403.kind === 'permanent' && r403.reason === 'ImageAccessDenied' && r403.message.includes('403 Forbidden'));
  const r400 = await probeImage(srv.url('/bad-request'), opts());
  assert.ok(r400.kind === 'permanent' && r400.reason === 'ImageRequestRejected');
  const r204 = await probeImage(srv.url('/teapot-ish'), opts());
  assert.ok(r204.kind === 'permanent' && r204.reason === 'ImageUnexpectedStatus' && r204.message.includes('expects 200'));
});

test('5xx and 429 → transient', async () => {
  const r500 = await probeImage(srv.url('/boom'), opts());
  assert.equal(r500, {
    kind: 'transient',
    reason: 'ImageServerError',
    status: 500,
    message: `image URL ${srv.url('/boom')} answered 500 Internal Server Error`,
  });
  const r429 = await probeImage(srv.url('/busy'), opts());
  assert.ok(r429.kind === 'transient' && r429.status === 429);
});

test('connection refused, a body cut short and DNS failure → transient ImageUnreachable', async () => {
  const port = await closedPort();
  const refused = await probeImage(`http://127.0.0.1:${port}/disk.img`, opts());
  assert.ok(
    refused.kind === 'transient' && refused.reason === 'ImageUnreachable' && refused.message.includes('ECONNREFUSED'),
    JSON.stringify(refused),
  );
  const cut = await probeImage(srv.url('/cut-short'), opts());
  assert.ok(cut.kind === 'transient' && cut.reason === 'ImageUnreachable', JSON.stringify(cut));
  const nx = await probeImage('http://nowhere.test/disk.img', opts());
  assert.ok(nx.kind === 'transient' && nx.message.includes('ENOTFOUND'));
});

test('a server that never answers → transient timeout within the deadline', async () => {
  const t0 = Date.now();
  const r = await probeImage(srv.url('/slow'), opts({ timeoutMs: 300 }));
  const took = Date.now() - t0;
  assert.equal(r, { kind: 'transient', reason: 'ImageUnreachable', message: `image URL ${srv.url('/slow')} did not answer within 300 ms` });
  assert.ok(took >= 280 && took < 1500, `took ${took} ms`);
});

test('redirect chains: up to 3 followed, the 4th refused; the message names both URLs', async () => {
  const r = ok(await probeImage(srv.url('/r3'), opts()));
  assert.is(r.redirects, 3);
  assert.is(r.url, srv.url('/ranged'));
  const tooMany = await probeImage(srv.url('/r4'), opts());
  assert.ok(tooMany.kind === 'permanent' && tooMany.reason === 'ImageTooManyRedirects', JSON.stringify(tooMany));
  assert.ok(tooMany.kind === 'permanent' && tooMany.message.includes(`image URL ${srv.url('/r4')} (redirected to ${srv.url('/r1')})`));
  const noLoc = await probeImage(srv.url('/no-location'), opts());
  assert.ok(noLoc.kind === 'permanent' && noLoc.message.includes('without a Location'));
});

test('a redirect to a refused target is refused before connecting', async () => {
  for (const path of ['/to-metadata', '/to-metadata-name', '/to-ipv6-loopback']) {
    const r = await probeImage(srv.url(path), opts());
    assert.ok(r.kind === 'permanent' && r.reason === 'ImageTargetRefused', `${path}: ${JSON.stringify(r)}`);
    assert.ok(
      r.kind === 'permanent' &&
        r.message.startsWith(`image URL ${srv.url(path)} redirects to a target the preflight refuses: image URL http://`),
    );
  }
  const ftp = await probeImage(srv.url('/to-ftp'), opts());
  assert.ok(ftp.kind === 'permanent' && ftp.reason === 'ImageURLInvalid');
});

test('loopback is refused without the allow-list, before any request', async () => {
  const before = srv.seen.length;
  const r = await probeImage(srv.url('/ranged'), opts({ allow: [] }));
  assert.ok(r.kind === 'permanent' && r.reason === 'ImageTargetRefused');
  assert.is(srv.seen.length, before);
});

test('a name is connected through the pinned lookup (system DNS does not know images.test)', async () => {
  const r = ok(await probeImage(srv.url('/small', 'images.test'), opts()));
  assert.ok(Buffer.from(r.bytes).equals(small));
  assert.is(srv.seen.at(-1)!.headers.host, `images.test:${srv.port}`);
});

test('headers: extraHeaders and basic auth are sent; credentials are dropped on a redirect to another host', async () => {
  const denied = await probeImage(srv.url('/private'), opts());
  assert.ok(denied.kind === 'permanent' && denied.reason === 'ImageAccessDenied' && denied.message.includes('401 Unauthorized'));
  ok(await probeImage(srv.url('/private'), opts({ basicAuth: { user: 'user', password: 'pass' } })));

  await probeImage(srv.url('/small'), opts({ headers: ['X-Token: abc', 'X-Multi: 1', 'x-multi: 2', 'no colon here'] }));
  const h = srv.seen.at(-1)!.headers;
  assert.is(h['x-token'], 'abc');
  assert.is(h['x-multi'], '1, 2');
  assert.is(h['user-agent'], 'kubevirt-machine-functions-preflight');

  const auth = { basicAuth: { user: 'user', password: 'pass' }, headers: ['Cookie: s=1', 'X-Token: abc'] };
  ok(await probeImage(srv.url('/to-self', 'images.test'), opts(auth)));
  assert.ok(srv.seen.at(-1)!.headers.authorization?.startsWith('Basic '), 'same host keeps credentials');
  ok(await probeImage(srv.url('/to-other', 'images.test'), opts(auth)));
  const last = srv.seen.at(-1)!;
  assert.is(last.path, '/auth-echo');
  assert.is(last.headers.authorization, undefined);
  assert.is(last.headers.cookie, undefined);
  assert.is(last.headers['x-token'], 'abc');
});

test('an invalid extraHeaders line → permanent ImageRequestInvalid', async () => {
  const r = await probeImage(srv.url('/small'), opts({ headers: ['Bad Name: x'] }));
  assert.ok(r.kind === 'permanent' && r.reason === 'ImageRequestInvalid', JSON.stringify(r));
});

test('416 on a Range request: retried once without Range', async () => {
  const r = ok(await probeImage(srv.url('/no-ranges'), opts()));
  assert.is(r.status, 200);
  assert.ok(Buffer.from(r.bytes).equals(small));
  assert.is(srv.seen.at(-1)!.headers.range, undefined);
});

test('content identity: ETag and Last-Modified of the answer, with the length (golden image key)', async () => {
  const r = await probeImage(`http://images.test:${srv.port}/identified`, opts());
  assert.is(r.kind, 'ok');
  if (r.kind !== 'ok') return;
  assert.is(r.etag, '"v2-abc"');
  assert.is(r.lastModified, 'Tue, 01 Dec 2026 10:00:00 GMT');
  assert.is(r.size, big.length);
  const plain = await probeImage(`http://images.test:${srv.port}/small`, opts());
  assert.ok(plain.kind === 'ok' && plain.etag === undefined && plain.lastModified === undefined);
});

test.run();
