/**
 * The SSRF guard's decisions (refused ranges, allow-list semantics, resolution) and the
 * pinned lookup that makes the decision stick at connect time.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { LookupAddress } from 'node:dns';
import {
  ALLOW_CIDRS_ENV,
  EMBEDDED_ALLOW_CIDRS,
  PreflightConfigError,
  allowListFromEnv,
  parseCidrList,
  refusalFor,
} from '../../../shared/preflight/refused.js';
import { checkImageTarget, pinnedLookup, redactUrl, redactUrlsIn, type Resolve } from '../../../shared/preflight/ssrf.js';

const allow = (text: string) => parseCidrList(text, 'test', { allowBareIp: true });
const NONE = allow('');
const LOOPBACK = allow('127.0.0.0/8');

/** A resolver from a table; unknown names fail like getaddrinfo. */
const table =
  (entries: Record<string, string[]>): Resolve =>
  async (host) => {
    const found = entries[host];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return found;
  };

test('refusalFor: refused by default; private and public addresses pass', () => {
  const refused = [
    '127.0.0.1',
    '127.9.9.9',
    '::1',
    '169.254.169.254',
    '169.254.1.1',
    'fe80::1',
    'fd00:ec2::254',
    '100.100.100.200',
    '168.63.129.16',
    '0.0.0.0',
    '::',
  ];
  for (const a of refused) assert.ok(refusalFor(a, NONE), a);
  const permitted = [
    '10.0.0.1',
    '192.168.1.10',
    '172.16.0.1',
    '100.64.0.1',
    '100.100.100.201',
    '203.0.113.7',
    'fd00::1',
    '2001:db8::1',
    '::2',
  ];
  for (const a of permitted) assert.is(refusalFor(a, NONE), undefined, a);
});

test('refusalFor: IPv4-mapped and NAT64 addresses are judged as the IPv4 they reach', () => {
  assert.equal(refusalFor('::ffff:127.0.0.1', NONE)?.checkedAs, '127.0.0.1');
  assert.equal(refusalFor('::ffff:a9fe:a9fe', NONE)?.checkedAs, '169.254.169.254');
  assert.equal(refusalFor('64:ff9b::a9fe:a9fe', NONE)?.checkedAs, '169.254.169.254');
  assert.is(refusalFor('::ffff:10.0.0.1', NONE), undefined);
  // The IPv4 allow entry opens the mapped form too.
  assert.is(refusalFor('::ffff:127.0.0.1', LOOPBACK), undefined);
});

test('refusalFor: the metadata address is named as such, with link-local', () => {
  const r = refusalFor('169.254.169.254', NONE)!;
  assert.equal(
    r.ranges.map((x) => [x.cidr.text, x.kind]),
    [
      ['169.254.169.254/32', 'metadata'],
      ['169.254.0.0/16', 'link-local'],
    ],
  );
});

test('allow-list: an entry opens what it covers inside a refused range, nothing more', () => {
  assert.is(refusalFor('127.0.0.1', LOOPBACK), undefined);
  assert.ok(refusalFor('::1', LOOPBACK), 'IPv6 loopback needs its own entry');
  assert.ok(refusalFor('169.254.169.254', LOOPBACK), 'link-local stays refused with loopback allowed');
  assert.ok(refusalFor('169.254.1.1', LOOPBACK));
  // Allowing link-local does not open the metadata address inside it…
  const linkLocal = allow('169.254.0.0/16');
  assert.is(refusalFor('169.254.1.1', linkLocal), undefined);
  assert.equal(
    refusalFor('169.254.169.254', linkLocal)?.ranges.map((x) => x.kind),
    ['metadata'],
  );
  // …an explicit entry does.
  assert.is(refusalFor('169.254.169.254', allow('169.254.169.254')), undefined);
  // A narrower loopback entry opens only itself.
  assert.is(refusalFor('127.0.0.5', allow('127.0.0.5')), undefined);
  assert.ok(refusalFor('127.0.0.6', allow('127.0.0.5')));
  // Catch-alls lie within no refused range: they cannot switch the guard off.
  for (const a of ['127.0.0.1', '169.254.169.254', '::1']) assert.ok(refusalFor(a, allow('0.0.0.0/0,::/0')), a);
});

test('allowListFromEnv: env wins (even empty), else the fallback; invalid entries are a config error', () => {
  assert.equal(allowListFromEnv({}).length, 0);
  assert.equal(
    allowListFromEnv({}, EMBEDDED_ALLOW_CIDRS).map((c) => c.text),
    ['127.0.0.0/8', '::1/128'],
  );
  assert.equal(allowListFromEnv({ [ALLOW_CIDRS_ENV]: '' }, EMBEDDED_ALLOW_CIDRS), []);
  assert.equal(
    allowListFromEnv({ [ALLOW_CIDRS_ENV]: ' 127.0.0.0/8 , ,10.0.0.5,fe80::/64' }).map((c) => c.text),
    ['127.0.0.0/8', '10.0.0.5/32', 'fe80::/64'],
  );
  assert.throws(
    () => allowListFromEnv({ [ALLOW_CIDRS_ENV]: '127.0.0.0/8,127.0.0.0/40' }),
    (e: Error) => e instanceof PreflightConfigError && e.message.includes(ALLOW_CIDRS_ENV) && e.message.includes('"127.0.0.0/40"'),
  );
  assert.throws(() => allowListFromEnv({ [ALLOW_CIDRS_ENV]: 'localhost' }), /IMAGE_PREFLIGHT_ALLOW_CIDRS: "localhost" is not a valid CIDR/);
  // The embedded default: loopback works, link-local does not.
  const embedded = allowListFromEnv({}, EMBEDDED_ALLOW_CIDRS);
  assert.is(refusalFor('127.0.0.1', embedded), undefined);
  assert.is(refusalFor('::1', embedded), undefined);
  assert.ok(refusalFor('169.254.169.254', embedded));
  assert.ok(refusalFor('fe80::1', embedded));
});

test('checkImageTarget: loopback refused by default, with a message naming host, address, range and remedy', async () => {
  const r = await checkImageTarget('http://127.0.0.1:8080/disk.img', table({}), NONE);
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.is(r.reason, 'ImageTargetRefused');
  assert.is(r.permanent, true);
  for (const part of ['http://127.0.0.1:8080/disk.img', 'targets 127.0.0.1', '127.0.0.0/8 (IPv4 loopback range)', ALLOW_CIDRS_ENV]) {
    assert.ok(r.message.includes(part), `${part} in: ${r.message}`);
  }
  assert.equal(await checkImageTarget('http://127.0.0.1:8080/disk.img', table({}), LOOPBACK).then((x) => x.ok), true);
});

test('checkImageTarget: link-local metadata refused even with 127.0.0.0/8 allowed; URL tricks normalise first', async () => {
  for (const url of [
    'http://169.254.169.254/latest/meta-data/',
    'http://0xa9fea9fe/',
    'http://2852039166/',
    'http://[::ffff:169.254.169.254]/',
    'http://[fe80::1]/x',
  ]) {
    const r = await checkImageTarget(url, table({}), LOOPBACK);
    assert.equal(r.ok, false, url);
    if (!r.ok) assert.is(r.reason, 'ImageTargetRefused', url);
  }
  const r = await checkImageTarget('http://0x7f.1/disk.img', table({}), NONE);
  assert.ok(!r.ok && r.message.includes('targets 127.0.0.1'), 'hex shorthand is loopback');
});

test('checkImageTarget: a host name resolving to a refused address is refused (any of its addresses)', async () => {
  const dns = table({
    'metadata.google.internal': ['169.254.169.254'],
    'mixed.example': ['203.0.113.7', '127.0.0.1'],
    'images.example': ['203.0.113.7', '2001:db8::7'],
  });
  const meta = await checkImageTarget('http://metadata.google.internal/computeMetadata/v1/', dns, LOOPBACK);
  assert.ok(!meta.ok && meta.message.includes('host metadata.google.internal resolves to 169.254.169.254'));
  assert.ok(!meta.ok && meta.message.includes('169.254.169.254/32 (cloud metadata endpoint) and 169.254.0.0/16 (IPv4 link-local range)'));
  const mixed = await checkImageTarget('https://mixed.example/disk.img', dns, NONE);
  assert.ok(!mixed.ok && mixed.reason === 'ImageTargetRefused' && mixed.message.includes('127.0.0.1'));
  const fine = await checkImageTarget('https://images.example/disk.img', dns, NONE);
  assert.equal(fine.ok && fine.addresses, ['203.0.113.7', '2001:db8::7']);
});

test('checkImageTarget: bad scheme or URL is permanent, DNS failure transient', async () => {
  const ftp = await checkImageTarget('ftp://images.example/disk.img', table({}), NONE);
  assert.ok(!ftp.ok && ftp.permanent && ftp.reason === 'ImageURLInvalid' && ftp.message.includes('scheme ftp'));
  const junk = await checkImageTarget('not a url', table({}), NONE);
  assert.ok(!junk.ok && junk.permanent && junk.reason === 'ImageURLInvalid');
  const nx = await checkImageTarget('http://nowhere.example/disk.img', table({}), NONE);
  assert.ok(!nx.ok && !nx.permanent && nx.reason === 'ImageUnreachable' && nx.message.includes('ENOTFOUND'));
  const empty = await checkImageTarget('http://empty.example/', table({ 'empty.example': [] }), NONE);
  assert.ok(!empty.ok && !empty.permanent);
});

test('redactUrl: no credentials or query tokens in messages', () => {
  assert.is(redactUrl('https://user:secret@images.example/disk.img?X-Amz-Signature=abc#frag'), 'https://images.example/disk.img?…');
  assert.is(redactUrl('http://images.example/disk.img'), 'http://images.example/disk.img');
});

/** Calls a LookupFunction and returns what it answered. */
function lookupOnce(
  fn: ReturnType<typeof pinnedLookup>,
  host: string,
  options: object,
): Promise<{ err: Error | null; address: string | LookupAddress[]; family?: number }> {
  return new Promise((resolve) => fn(host, options, (err, address, family) => resolve({ err, address, family })));
}

test('pinnedLookup: answers only the checked addresses, both call styles, family filter, other hosts fail', async () => {
  const fn = pinnedLookup('images.example', ['203.0.113.7', '2001:db8::7']);
  assert.equal((await lookupOnce(fn, 'images.example', { all: true })).address, [
    { address: '203.0.113.7', family: 4 },
    { address: '2001:db8::7', family: 6 },
  ]);
  const single = await lookupOnce(fn, 'images.example', {});
  assert.equal([single.address, single.family], ['203.0.113.7', 4]);
  const v6 = await lookupOnce(fn, 'IMAGES.example', { family: 6 });
  assert.equal([v6.address, v6.family], ['2001:db8::7', 6]);
  const other = await lookupOnce(fn, 'evil.example', { all: true });
  assert.ok(other.err && (other.err as NodeJS.ErrnoException).code === 'ENOTFOUND');
  const none = await lookupOnce(pinnedLookup('v4.example', ['203.0.113.7']), 'v4.example', { family: 6 });
  assert.ok(none.err);
});

test('redactUrlsIn: every URL in a message loses its credentials and query; other text stays', () => {
  const text = 'Unable to connect to http data source: Get "https://u:pw-123@img.example/d.img?sig=tok-9": EOF, see http://docs.example/x';
  const out = redactUrlsIn(text);
  assert.not.ok(out.includes('pw-123') || out.includes('tok-9'), out);
  assert.ok(out.includes('https://img.example/d.img?…'), out);
  assert.ok(out.includes('see http://docs.example/x'), out);
});

test.run();
