/**
 * parseRequestURI against Go's url.ParseRequestURI. The table was produced by
 * testdata/parse-request-uri.go under Go 1.26.8; when a Go toolchain is on PATH the same
 * inputs are also run through Go live, so a drift in either side shows up.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseRequestURI } from '../../../shared/image/request-uri.js';

/** [input, scheme Go reports on success, or null when Go returns an error]. */
const GO_1_26: [string, string | null][] = [
  ['http://x.y.z.t/ubuntu.img', 'http'],
  ['https://example.com:8443/a/b.qcow2?x=1#frag', 'https'],
  ['docker://x.y.z.t/ubuntu.img:latest', 'docker'],
  ['DOCKER://registry:5000/img', 'docker'],
  ['oci://quay.io/a/b:1', 'oci'],
  ['oci-archive://quay.io/a/b', 'oci-archive'],
  ['ns/dvname', null],
  ['dvname', null],
  ['', null],
  ['/abs/path.img', ''],
  ['//host/path', ''],
  ['*', ''],
  ['mailto:someone', 'mailto'],
  ['c:\\images\\a.img', 'c'],
  ['://x', null],
  ['1http://x', null],
  ['http://host:port/x', null],
  ['http://host:80a/x', null],
  ['http://exa mple.com/x', null],
  ['http://ex%41mple.com/x', null],
  ['http://ex%C3%A9mple.com/x', 'http'],
  ['http://host/%zz', null],
  ['http://host/%4', null],
  ['http://us er@host/x', null],
  ['http://user:p%40ss@host/x', 'http'],
  ['http://user:p%zz@host/x', null],
  ['http://[::1]:8080/x', 'http'],
  ['http://[::1/x', null],
  ['http://[::1]x/x', null],
  ['http://[fe80::1%25en0]/x', 'http'],
  ['http://[fe80::1%25%41]/x', 'http'],
  ['http://host/a\tb', null],
  ['http://host/a b', 'http'],
  ['http://host/?', 'http'],
  ['http://host/a?b?', 'http'],
  ['http://h{o}st/x', null],
  ['http://h|st/x', null],
  ['s3://bucket/key', 's3'],
  ['gs://bucket/key', 'gs'],
  ['ftp:/x', 'ftp'],
  ['http:', 'http'],
  ['http:x', 'http'],
  ['a/b/c', null],
  ['http://host/é', 'http'],
  ['http://hôst/x', 'http'],
  ['http://user@ḧost/x', 'http'],
  ['http://üser@host/x', null],
  ['http://host:/x', 'http'],
  ['http://:80/x', 'http'],
  ['http://[]/x', null],
  ['http://a@b@c/x', 'http'],
  ['http://host/a#b%zz', null],
  ['x.y:z/a', 'x.y'],
  ['ns/dv:tag', null],
  ['registry.example.com/ns/img:1', null],
  ['http://a:1:2/x', null],
  ['docker://a:1:2/x', 'docker'],
  ['https://a::/x', null],
  ['http://x[y]/', null],
  ['http://[1.2.3.4]/x', null],
  ['http://[::ffff:1.2.3.4]/x', 'http'],
  ['http://[fe80::1%25]/x', null],
  ['http://[fe80::1%C3]/x', null],
  ['http://[fe80::1%25en0]:80/x', 'http'],
  ['http://[::1]:/x', 'http'],
  ['docker://[::1]:5000/img', 'docker'],
  ['http://[::1]%41/x', null],
  ['http://[fe80::1%25a%0a]/x', null],
  ['http://[fe80::1%25a%C3%A9]/x', null],
  ['http://[::g]/x', null],
  ['http://[1:2:3:4:5:6:7:8:9]/x', null],
];

for (const [input, scheme] of GO_1_26) {
  test(`${JSON.stringify(input)} → ${scheme === null ? 'rejected' : `scheme ${JSON.stringify(scheme)}`}`, () => {
    const got = parseRequestURI(input);
    assert.equal(got.ok ? got.scheme : null, scheme, got.ok ? 'accepted' : got.error);
  });
}

test('live cross-check with the Go toolchain (skipped without `go` on PATH)', () => {
  const oracle = fileURLToPath(new URL('./testdata/parse-request-uri.go', import.meta.url));
  const res = spawnSync('go', ['run', oracle], {
    input: JSON.stringify(GO_1_26.map(([input]) => input)),
    encoding: 'utf8',
    timeout: 180_000,
    // Never fetch a toolchain or modules: the oracle uses the standard library only.
    env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '', GO111MODULE: 'on' },
  });
  if (res.error && (res.error as NodeJS.ErrnoException).code === 'ENOENT') {
    console.log('  (go not found: live cross-check skipped)');
    return;
  }
  assert.is(res.status, 0, res.stderr);
  const live = JSON.parse(res.stdout) as { in: string; ok: boolean; scheme?: string }[];
  for (const row of live) {
    const got = parseRequestURI(row.in);
    assert.equal(got.ok ? got.scheme : null, row.ok ? row.scheme : null, `input ${JSON.stringify(row.in)}`);
  }
});

test.run();
