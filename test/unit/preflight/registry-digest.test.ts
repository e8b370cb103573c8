/**
 * resolveRegistryDigest against the loopback stand-in registry (dev/stack/registry-server.ts)
 * and a few hand-made servers: the digest by tag, the anonymous Bearer token flow, and every way
 * of not learning it (which the caller turns into "not cached", never a failed Machine).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { parseRegistryRef, type RegistryRef } from '../../../shared/image/registry-ref.js';
import { MANIFEST_ACCEPT, resolveRegistryDigest, type RegistryDigestOptions } from '../../../shared/preflight/registry-digest.js';
import { preflightImage } from '../../../shared/preflight/image.js';
import { parseCidrList } from '../../../shared/preflight/refused.js';
import { startRegistryServer, type RegistryServer } from '../../../dev/stack/registry-server.js';
import { closedPort, hang, startServer, status, type TestServer } from './server.js';

let reg: RegistryServer;
let opts: RegistryDigestOptions;
const loopback = parseCidrList('127.0.0.0/8', 'test');

test.before(async () => {
  reg = await startRegistryServer();
  opts = { resolve: async () => ['127.0.0.1'], allow: loopback, timeoutMs: 3000, insecureRegistries: [reg.host] };
});
test.after(() => reg.close());

const ref = (url: string): RegistryRef => {
  const r = parseRegistryRef(url);
  if (!r.ok) throw new Error(r.message);
  return r.ref;
};
const unknown = (r: Awaited<ReturnType<typeof resolveRegistryDigest>>): string => {
  assert.is(r.kind, 'unknown', JSON.stringify(r));
  return (r as { reason: string }).reason;
};

test('a tag: HEAD manifests with the manifest Accept list → Docker-Content-Digest; a re-push moves it', async () => {
  const first = reg.push('containerdisks/ubuntu', '22.04');
  const r = await resolveRegistryDigest(ref(reg.url('containerdisks/ubuntu:22.04')), opts);
  assert.equal(r, { kind: 'digest', digest: first, fromUrl: false });
  const heads = reg.manifestRequests('containerdisks/ubuntu').filter((q) => q.method === 'HEAD');
  assert.ok(heads.length >= 1);
  assert.is(heads.at(-1)!.path, '/v2/containerdisks/ubuntu/manifests/22.04');
  const second = reg.push('containerdisks/ubuntu', '22.04');
  assert.is.not(second, first);
  assert.equal(await resolveRegistryDigest(ref(reg.url('containerdisks/ubuntu:22.04')), opts), {
    kind: 'digest',
    digest: second,
    fromUrl: false,
  });
  assert.match(MANIFEST_ACCEPT, 'application/vnd.oci.image.index.v1+json');
  assert.match(MANIFEST_ACCEPT, 'application/vnd.docker.distribution.manifest.v2+json');
});

test('a digest-pinned URL: that digest, and no request at all', async () => {
  const d = `sha256:${'cd'.repeat(32)}`;
  const before = reg.requests.length;
  assert.equal(await resolveRegistryDigest(ref(reg.url(`pinned/img@${d}`)), opts), { kind: 'digest', digest: d, fromUrl: true });
  assert.is(reg.requests.length, before);
});

test('Bearer challenge → anonymous token from the realm → the retry gets the digest', async () => {
  const d = reg.push('public/tokened', 'v1', { auth: 'token' });
  const before = reg.requests.length;
  assert.equal(await resolveRegistryDigest(ref(reg.url('public/tokened:v1')), opts), { kind: 'digest', digest: d, fromUrl: false });
  const seen = reg.requests.slice(before);
  const https = seen.length - 3; // the insecure registry is tried over https first (no TLS here)
  assert.equal(
    seen.slice(https).map((q) => [q.method, q.path.replace(/\?.*/, ''), q.status, q.authorized]),
    [
      ['HEAD', '/v2/public/tokened/manifests/v1', 401, false],
      ['GET', '/token', 200, false],
      ['HEAD', '/v2/public/tokened/manifests/v1', 200, true],
    ],
  );
  const tokenReq = new URL(seen[https + 1]!.path, 'http://x');
  assert.is(tokenReq.searchParams.get('service'), 'stand-in-registry');
  assert.is(tokenReq.searchParams.get('scope'), 'repository:public/tokened:pull');
});

test('private: the anonymous token grants nothing → unknown (401 after the token), no secret in the reason', async () => {
  reg.push('private/img', 'v1', { auth: 'private' });
  const reason = unknown(await resolveRegistryDigest(ref(reg.url('private/img:v1')), opts));
  assert.match(reason, 'refuses an anonymous pull (401 with an anonymous token)');
  assert.not.match(reason, /Bearer [0-9a-f]{8}/);
});

test('404 (unknown tag or repository): unknown, not a refusal', async () => {
  reg.push('exists/img', 'v1');
  assert.match(unknown(await resolveRegistryDigest(ref(reg.url('exists/img:v2')), opts)), 'answered 404');
  assert.match(unknown(await resolveRegistryDigest(ref(reg.url('nothing/here:v1')), opts)), 'answered 404');
});

test('not listed as insecure: https only, which the plain-http stand-in cannot answer → unknown', async () => {
  reg.push('secure/img', 'v1');
  const before = reg.requests.length;
  const reason = unknown(await resolveRegistryDigest(ref(reg.url('secure/img:v1')), { ...opts, insecureRegistries: [] }));
  assert.match(reason, `https://${reg.host}/v2/secure/img/manifests/v1 is unreachable`);
  assert.is(reg.requests.slice(before).filter((q) => q.path.startsWith('/v2/')).length, 0, 'no plain-http request');
});

test('the SSRF guard: loopback not allowed → unknown with the guard’s reason, nothing sent', async () => {
  reg.push('guarded/img', 'v1');
  const before = reg.requests.length;
  const reason = unknown(await resolveRegistryDigest(ref(reg.url('guarded/img:v1')), { ...opts, allow: [] }));
  assert.match(reason, 'IMAGE_PREFLIGHT_ALLOW_CIDRS');
  assert.is(reg.requests.length, before);
});

let srv: TestServer;
test('the token realm is guarded too; 401 without Bearer; 5xx; a hanging registry; a closed port', async () => {
  const realmChallenge = 'Bearer realm="http://169.254.169.254/token",service="s"';
  srv = await startServer({
    '/v2/metadata/img/manifests/v1': status(401, { 'www-authenticate': realmChallenge }),
    '/v2/basic/img/manifests/v1': status(401, { 'www-authenticate': 'Basic realm="Registry"' }),
    '/v2/down/img/manifests/v1': status(503),
    '/v2/slow/img/manifests/v1': hang,
  });
  const host = `127.0.0.1:${srv.port}`;
  const o = { ...opts, insecureRegistries: [host], timeoutMs: 1500 };
  const resolve: RegistryDigestOptions['resolve'] = async () => ['127.0.0.1'];
  assert.match(unknown(await resolveRegistryDigest(ref(`docker://${host}/metadata/img:v1`), { ...o, resolve })), '169.254.169.254');
  assert.is(srv.seen.filter((s) => s.path === '/token').length, 0);
  assert.match(unknown(await resolveRegistryDigest(ref(`docker://${host}/basic/img:v1`), o)), 'without a Bearer challenge');
  assert.match(unknown(await resolveRegistryDigest(ref(`docker://${host}/down/img:v1`), o)), 'answered 503');
  const t0 = Date.now();
  assert.match(unknown(await resolveRegistryDigest(ref(`docker://${host}/slow/img:v1`), o)), 'did not answer within 1500 ms');
  assert.ok(Date.now() - t0 < 2500, 'one deadline for the whole lookup');
  const closed = `127.0.0.1:${await closedPort()}`;
  assert.match(
    unknown(await resolveRegistryDigest(ref(`docker://${closed}/x/y:1`), { ...o, insecureRegistries: [closed] })),
    'unreachable',
  );
  await srv.close();
});

test('no Docker-Content-Digest header: the manifest is fetched and hashed', async () => {
  const body = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}');
  srv = await startServer({
    '/v2/nohdr/img/manifests/v1': (req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    },
    '/v2/baddigest/img/manifests/v1': status(200, { 'docker-content-digest': 'sha256:nothex' }),
  });
  const host = `127.0.0.1:${srv.port}`;
  const o = { ...opts, insecureRegistries: [host] };
  const d = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  assert.equal(await resolveRegistryDigest(ref(`docker://${host}/nohdr/img:v1`), o), { kind: 'digest', digest: d, fromUrl: false });
  assert.match(unknown(await resolveRegistryDigest(ref(`docker://${host}/baddigest/img:v1`), o)), 'not a sha256 digest');
  await srv.close();
});

test('preflightImage: registry digests only when asked; otherwise ok/uncached, never a failure', async () => {
  const d = reg.push('pf/img', 'v1');
  const base = { resolve: opts.resolve, allow: loopback, insecureRegistries: [reg.host], timeoutMs: 3000 };
  const source = { registry: { url: reg.url('pf/img:v1'), pullMethod: 'node' as const } };
  const before = reg.requests.length;
  assert.equal(await preflightImage(source, base), { ok: true, skipped: 'registry source: not probed' });
  assert.is(reg.requests.length, before, 'not asked');
  assert.equal(await preflightImage(source, { ...base, registryDigests: true }), { ok: true, digest: d });
  const oci = await preflightImage({ registry: { url: 'oci-archive:///disk.tar', pullMethod: 'pod' } }, { ...base, registryDigests: true });
  assert.ok(oci.ok && oci.uncached && /archive/.test(oci.uncached));
  const down = await preflightImage(
    { registry: { url: reg.url('pf/missing:v1'), pullMethod: 'node' } },
    { ...base, registryDigests: true },
  );
  assert.ok(down.ok && down.uncached && /404/.test(down.uncached), JSON.stringify(down));
});

test.run();
