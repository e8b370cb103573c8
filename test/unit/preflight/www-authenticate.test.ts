/** parseWwwAuthenticate: the challenges registries send (Docker token auth spec) and RFC 9110 forms. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseWwwAuthenticate } from '../../../shared/preflight/www-authenticate.js';

test("Docker Hub's Bearer challenge", () => {
  assert.equal(
    parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull"'),
    [
      {
        scheme: 'bearer',
        params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/ubuntu:pull' },
      },
    ],
  );
});

test('insufficient_scope, spaces around separators, case-insensitive names', () => {
  const [c] = parseWwwAuthenticate(
    'bearer Realm = "https://r/t" , Service=reg ,scope="repository:a/b:pull,push", error="insufficient_scope"',
  );
  assert.equal(c, {
    scheme: 'bearer',
    params: { realm: 'https://r/t', service: 'reg', scope: 'repository:a/b:pull,push', error: 'insufficient_scope' },
  });
});

test('several challenges in one header (or several joined by Node with ", ")', () => {
  const cs = parseWwwAuthenticate('Basic realm="Registry Realm", Bearer realm="https://r/token",service="s"');
  assert.equal(
    cs.map((c) => c.scheme),
    ['basic', 'bearer'],
  );
  assert.equal(cs[0]!.params, { realm: 'Registry Realm' });
  assert.equal(cs[1]!.params, { realm: 'https://r/token', service: 's' });
});

test('quoted-pair escapes; a scheme with no parameters; token68', () => {
  assert.equal(parseWwwAuthenticate('Bearer realm="a\\"b\\\\c"')[0]!.params.realm, 'a"b\\c');
  assert.equal(parseWwwAuthenticate('Negotiate'), [{ scheme: 'negotiate', params: {} }]);
  assert.equal(parseWwwAuthenticate('Negotiate dG9rZW4=, Bearer realm="x"'), [
    { scheme: 'negotiate', params: { token68: 'dG9rZW4=' } },
    { scheme: 'bearer', params: { realm: 'x' } },
  ]);
});

test('garbage: no crash, no invented realm', () => {
  assert.equal(parseWwwAuthenticate(''), []);
  for (const h of ['"', '=,=', 'Bearer realm=', 'Bearer realm="unterminated', '  ,  ']) {
    const cs = parseWwwAuthenticate(h);
    assert.ok(Array.isArray(cs), h);
  }
  assert.is(parseWwwAuthenticate('Bearer realm=')[0]?.params.realm ?? '', '');
});

test.run();
