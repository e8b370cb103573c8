/**
 * `WWW-Authenticate` (RFC 9110 §11.6.1) → its challenges, pure. A registry answers an
 * anonymous manifest request with `401` and
 * `Bearer realm="https://auth.example/token",service="registry.example",scope="repository:x:pull"`
 * (Docker token authentication spec, distribution/distribution docs/spec/auth/token.md); a
 * server may offer several challenges in one header, or in several that Node joins with ", ".
 */

export interface AuthChallenge {
  /** Lower-cased: `bearer`, `basic`, … */
  scheme: string;
  /** Parameter names lower-cased, values unquoted. */
  params: Record<string, string>;
}

/** RFC 9110 `token` characters. */
const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const out: AuthChallenge[] = [];
  let i = 0;
  const n = header.length;
  const skip = (chars: string): void => {
    while (i < n && chars.includes(header[i]!)) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && TOKEN.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  const quoted = (): string => {
    // At the opening quote; backslash escapes any character (quoted-pair).
    let v = '';
    i++;
    while (i < n && header[i] !== '"') {
      if (header[i] === '\\' && i + 1 < n) i++;
      v += header[i++];
    }
    i++; // closing quote (or the end of an unterminated string)
    return v;
  };

  while (i < n) {
    skip(' \t,');
    const scheme = token();
    if (scheme === '') {
      // Not a token where a scheme must be: skip the character rather than loop forever.
      i++;
      continue;
    }
    const challenge: AuthChallenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    skip(' \t');
    // token68 (`Basic dXNlcg==`): kept as the parameter `token68`; no registry sends one here.
    const t68 = /^[A-Za-z0-9\-._~+/]+=*(?=\s*(,|$))/.exec(header.slice(i));
    if (t68 && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+\s*=\s*["!#$%&'*+.^_`|~0-9A-Za-z-]/.test(header.slice(i))) {
      challenge.params.token68 = t68[0];
      i += t68[0].length;
      continue;
    }
    // auth-params: name=value pairs separated by commas, until a token not followed by '='
    // (the next challenge's scheme).
    for (;;) {
      skip(' \t,');
      const start = i;
      const name = token();
      if (name === '') break;
      skip(' \t');
      if (header[i] !== '=') {
        i = start;
        break;
      }
      i++;
      skip(' \t');
      const value = header[i] === '"' ? quoted() : token();
      challenge.params[name.toLowerCase()] = value;
    }
  }
  return out;
}
