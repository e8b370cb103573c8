/**
 * CIDR math: parsing (both families, mapped IPv6, canonical text), containment, overlap.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cidrContains, cidrsOverlap, cidrWithin, formatIp, parseCidr, parseIp, unmapIpv4 } from '../../../shared/preflight/cidr.js';

const cidr = (text: string) => {
  const c = parseCidr(text);
  if (!c) throw new Error(`test fixture ${text} does not parse`);
  return c;
};

test('parseIp: both families, brackets and zones; rejects non-addresses', () => {
  assert.equal(parseIp('10.1.2.3'), { family: 4, value: 0x0a010203n });
  assert.equal(parseIp('::1'), { family: 6, value: 1n });
  assert.equal(parseIp('[::1]'), { family: 6, value: 1n });
  assert.equal(parseIp('fe80::1%eth0'), { family: 6, value: (0xfe80n << 112n) | 1n });
  assert.equal(parseIp('::ffff:1.2.3.4'), { family: 6, value: (0xffffn << 32n) | 0x01020304n });
  assert.equal(parseIp('1:2:3:4:5:6:7:8')?.value, 0x00010002000300040005000600070008n);
  assert.equal(parseIp('2001:db8::'), { family: 6, value: 0x20010db8n << 96n });
  for (const bad of ['', 'localhost', '1.2.3', '256.1.1.1', '01.2.3.4', '1::2::3', 'gggg::', '1.2.3.4/32']) {
    assert.is(parseIp(bad), undefined, bad);
  }
});

test('unmapIpv4: ::ffff:a.b.c.d becomes IPv4, other IPv6 stays', () => {
  assert.equal(unmapIpv4(parseIp('::ffff:127.0.0.1')!), { family: 4, value: 0x7f000001n });
  assert.equal(unmapIpv4(parseIp('::ffff:7f00:1')!), { family: 4, value: 0x7f000001n });
  assert.equal(unmapIpv4(parseIp('::127.0.0.1')!).family, 6); // IPv4-compatible (deprecated) is not mapped
  assert.equal(unmapIpv4(parseIp('10.0.0.1')!), parseIp('10.0.0.1'));
});

test('formatIp: RFC 5952 canonical IPv6, dotted IPv4', () => {
  const table: [string, string][] = [
    ['10.0.0.1', '10.0.0.1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group stays
    ['fe80::', 'fe80::'],
    ['fd00:ec2:0:0:0:0:0:254', 'fd00:ec2::254'],
  ];
  for (const [input, want] of table) assert.is(formatIp(parseIp(input)!), want, input);
});

test('parseCidr: canonical text, host bits cleared, mapped ranges become IPv4', () => {
  const table: [string, string | undefined][] = [
    ['10.0.0.0/8', '10.0.0.0/8'],
    [' 10.1.2.3/8 ', '10.0.0.0/8'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['192.168.1.7/32', '192.168.1.7/32'],
    ['fe80::1/10', 'fe80::/10'],
    ['FD00:10:96::/108', 'fd00:10:96::/108'],
    ['::/0', '::/0'],
    ['::ffff:127.0.0.0/104', '127.0.0.0/8'],
    ['::ffff:0:0/96', '0.0.0.0/0'],
    ['::ffff:0:0/95', '::fffe:0:0/95'], // wider than the mapped block: stays IPv6
    ['10.0.0.0/33', undefined],
    ['::/129', undefined],
    ['10.0.0.0/-1', undefined],
    ['10.0.0.0/', undefined],
    ['10.0.0.0/8/8', undefined],
    ['[::1]/128', undefined],
    ['fe80::1%eth0/64', undefined],
    ['10.0.0.1', undefined], // a bare IP is no CIDR unless asked
    ['nonsense', undefined],
  ];
  for (const [input, want] of table) assert.is(parseCidr(input)?.text, want, input);
  assert.is(parseCidr('10.0.0.1', { allowBareIp: true })?.text, '10.0.0.1/32');
  assert.is(parseCidr('::1', { allowBareIp: true })?.text, '::1/128');
});

test('cidrContains: v4, v6, mapped addresses judged as IPv4, families never mix', () => {
  const table: [string, string, boolean][] = [
    ['127.0.0.0/8', '127.0.0.1', true],
    ['127.0.0.0/8', '127.255.255.255', true],
    ['127.0.0.0/8', '128.0.0.0', false],
    ['127.0.0.0/8', '126.255.255.255', false],
    ['169.254.169.254/32', '169.254.169.254', true],
    ['169.254.169.254/32', '169.254.169.253', false],
    ['0.0.0.0/0', '255.255.255.255', true],
    ['fe80::/10', 'fe80::1', true],
    ['fe80::/10', 'febf:ffff::1', true],
    ['fe80::/10', 'fec0::1', false],
    ['::1/128', '::1', true],
    ['::1/128', '::2', false],
    ['127.0.0.0/8', '::ffff:127.0.0.1', true],
    ['127.0.0.0/8', '::ffff:7f00:1', true],
    ['169.254.0.0/16', '::ffff:169.254.169.254', true],
    ['::ffff:0:0/96', '::ffff:10.0.0.1', true], // the range is IPv4 0.0.0.0/0 once parsed
    ['::/0', '10.0.0.1', false],
    ['0.0.0.0/0', '::1', false],
    ['10.0.0.0/8', 'not-an-ip', false],
  ];
  for (const [range, ip, want] of table) assert.is(cidrContains(cidr(range), ip), want, `${range} ∋ ${ip}`);
});

test('cidrsOverlap and cidrWithin', () => {
  const table: [string, string, boolean][] = [
    ['10.0.0.0/8', '10.96.0.0/12', true],
    ['10.96.0.0/12', '10.0.0.0/8', true],
    ['10.96.0.0/12', '10.112.0.0/12', false], // adjacent
    ['10.96.0.0/12', '10.111.255.0/24', true], // last /24 inside
    ['192.168.0.0/16', '192.169.0.0/16', false],
    ['0.0.0.0/0', '203.0.113.0/24', true],
    ['10.244.0.0/16', '10.244.0.0/16', true],
    ['fd00:10:96::/108', 'fd00:10:96::/112', true],
    ['fd00:10:96::/112', 'fd00:10:97::/112', false],
    ['fd00::/8', 'fe80::/10', false],
    ['::/0', '0.0.0.0/0', false], // families never overlap
    ['::ffff:10.0.0.0/104', '10.1.0.0/16', true], // mapped range is IPv4
  ];
  for (const [a, b, want] of table) assert.is(cidrsOverlap(cidr(a), cidr(b)), want, `${a} ∩ ${b}`);
  assert.ok(cidrWithin(cidr('127.0.0.0/8'), cidr('127.0.0.0/8')));
  assert.ok(cidrWithin(cidr('169.254.169.254/32'), cidr('169.254.0.0/16')));
  assert.not.ok(cidrWithin(cidr('169.254.0.0/16'), cidr('169.254.169.254/32')));
  assert.not.ok(cidrWithin(cidr('0.0.0.0/0'), cidr('127.0.0.0/8')));
  assert.not.ok(cidrWithin(cidr('::/0'), cidr('0.0.0.0/0')));
});

test.run();
