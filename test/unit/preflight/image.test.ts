/**
 * preflightImage end to end on real files (zlib gzip, the bzip2 CLI, qemu-img qcow2, tar,
 * raw bytes) served by a real local server: SSRF guard → Range GET → sniff.
 */
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { preflightImage, type PreflightDeps, type PreflightResult } from '../../../shared/preflight/image.js';
import { parseCidrList } from '../../../shared/preflight/refused.js';
import { ImageDir } from '../image/image-files.js';
import { file, startServer, status, type TestServer } from './server.js';
import { needing } from '../../support/system-tools.js';

// The image files are made with the real tools; without them every test here is skipped.
const test = needing(uvuTest, ['bzip2', 'qemu-img', 'tar']);

const deps: PreflightDeps = { resolve: async () => ['127.0.0.1'], allow: parseCidrList('127.0.0.0/8', 'test'), timeoutMs: 3000 };
const dir = new ImageDir();
let srv: TestServer;
const names: Record<string, string> = {};

test.before(async () => {
  names.raw = dir.raw('disk.raw');
  names.gz = dir.gzip(names.raw);
  names.bz2 = dir.compress('bzip2', names.raw);
  names.qcow2 = dir.qemuImg('qcow2', 'disk.qcow2', '3G');
  names.qcow2gz = dir.gzip(names.qcow2);
  dir.run('tar', ['-cf', 'disk.tar', names.raw]);
  names.tar = 'disk.tar';
  const routes: Record<string, ReturnType<typeof file>> = {};
  for (const name of Object.values(names)) routes[`/${name}`] = file(dir.readAll(name));
  routes['/empty.img'] = file(new Uint8Array(0));
  routes['/private.img'] = status(401);
  routes['/down.img'] = status(503);
  srv = await startServer(routes);
});
test.after(async () => {
  await srv.close();
  dir.remove();
});

const http = (name: string, extra: { secretRef?: string } = {}) => ({ http: { url: srv.url(`/${name}`), ...extra } });
const refused = (r: PreflightResult) => {
  if (r.ok) throw new Error(`expected a refusal, got ${JSON.stringify(r)}`);
  return r;
};

test('bz2 is refused, permanently, naming the format and the remedy', async () => {
  const r = refused(await preflightImage(http(names.bz2!), deps));
  assert.is(r.permanent, true);
  assert.is(r.reason, 'ImageFormatUnsupported');
  assert.ok(r.message.startsWith(`image URL ${srv.url('/disk.raw.bz2')} is a bzip2-compressed stream: `), r.message);
  assert.ok(r.message.includes('recompress as gz or xz'), r.message);
  assert.ok(r.message.includes('serve the raw or qcow2 image'), r.message);
});

test('tar (contentType kubevirt) is refused too', async () => {
  const r = refused(await preflightImage(http(names.tar!), deps));
  assert.ok(r.permanent && r.reason === 'ImageFormatUnsupported' && r.message.includes('tar archive'), r.message);
});

test('gz, qcow2, qcow2.gz and raw pass, with format and virtual size', async () => {
  const gz = await preflightImage(http(names.gz!), deps);
  assert.ok(gz.ok && gz.format === 'gz' && gz.sniff?.inner?.format === 'raw', JSON.stringify(gz));
  const qcow2 = await preflightImage(http(names.qcow2!), deps);
  assert.ok(qcow2.ok && qcow2.format === 'qcow2', JSON.stringify(qcow2));
  assert.is(qcow2.ok && qcow2.virtualSize, 3 * 1024 ** 3);
  assert.is(qcow2.ok && qcow2.size, dir.readAll(names.qcow2!).length);
  const qgz = await preflightImage(http(names.qcow2gz!), deps);
  assert.ok(qgz.ok && qgz.format === 'gz' && qgz.virtualSize === 3 * 1024 ** 3, JSON.stringify(qgz));
  const raw = await preflightImage(http(names.raw!), deps);
  assert.ok(raw.ok && raw.format === 'raw' && raw.size === 256 * 1024, JSON.stringify(raw));
});

test('404 → permanent ImageNotFound; 503 → transient; an empty file → ImageEmpty', async () => {
  const missing = refused(await preflightImage(http('nope.img'), deps));
  assert.equal(
    [missing.permanent, missing.reason, missing.message],
    [true, 'ImageNotFound', `image URL ${srv.url('/nope.img')} answered 404 Not Found`],
  );
  const down = refused(await preflightImage(http('down.img'), deps));
  assert.equal([down.permanent, down.reason], [false, 'ImageServerError']);
  const empty = refused(await preflightImage(http('empty.img'), deps));
  assert.equal([empty.permanent, empty.reason], [true, 'ImageEmpty']);
});

test('link-local and (by default) loopback targets are refused before any request', async () => {
  const before = srv.seen.length;
  const meta = refused(await preflightImage({ http: { url: 'http://169.254.169.254/latest/meta-data/' } }, deps));
  assert.equal([meta.permanent, meta.reason], [true, 'ImageTargetRefused']);
  const loop = refused(await preflightImage(http(names.raw!), { ...deps, allow: [] }));
  assert.equal([loop.permanent, loop.reason], [true, 'ImageTargetRefused']);
  assert.is(srv.seen.length, before);
});

test('401 with a secretRef whose credentials were not given: not a failure, format unchecked', async () => {
  const r = await preflightImage(http('private.img', { secretRef: 'img-creds' }), deps);
  assert.ok(r.ok && r.format === undefined && r.skipped?.includes('Secret img-creds'), JSON.stringify(r));
  const noSecret = refused(await preflightImage(http('private.img'), deps));
  assert.equal([noSecret.permanent, noSecret.reason], [true, 'ImageAccessDenied']);
});

test('registry and pvc sources are not probed', async () => {
  const reg = await preflightImage({ registry: { url: 'docker://quay.io/containerdisks/ubuntu:22.04', pullMethod: 'node' } }, deps);
  assert.ok(reg.ok && reg.skipped?.startsWith('registry'));
  const pvc = await preflightImage({ pvc: { namespace: 'images', name: 'ubuntu' } }, deps);
  assert.ok(pvc.ok && pvc.skipped?.startsWith('pvc'));
});

uvuTest.run();
