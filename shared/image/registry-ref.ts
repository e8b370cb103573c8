/**
 * A CDI registry source URL → the parts the registry's HTTP API needs, pure.
 *
 * CDI's registry importer (pkg/importer/registry-datasource.go) hands `docker://…` to
 * containers/image's docker transport, which parses what follows `//` with
 * distribution/reference's grammar (`ParseNormalizedNamed`):
 *
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [ domain "/" ] path-component ( "/" path-component )*
 *
 * The first component is a domain only if it holds a `.` or `:` or is `localhost` (or has an
 * upper-case letter, which a path component never may); otherwise the image is Docker Hub's,
 * whose API host is `registry-1.docker.io`, and a one-component path is an official image
 * (`library/<name>`). Without tag and digest, containers/image asks for `latest`.
 *
 * `oci-archive://` (a file inside the importer's volume) and any other scheme name nothing a
 * registry can be asked about: {@link parseRegistryRef} says why, and the image is not cached.
 */

/** Docker Hub's names for itself in a reference, and the host its API is served from. */
const DOCKER_HUB_DOMAINS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';

/** distribution/reference: one path component (lower-case alphanumerics with separators). */
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
/** distribution/reference `tag`. */
const TAG = /^[\w][\w.-]{0,127}$/;
/**
 * The digests a golden can be keyed by: sha256 (what every registry computes) and sha512.
 * distribution/reference accepts other algorithms syntactically; no registry serves them.
 */
const DIGEST = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
/** A domain: host name labels or a bracketed IPv6 literal, optionally a port. */
const DOMAIN =
  /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/;
/** distribution/reference NameTotalLengthMax. */
const NAME_MAX = 255;

export interface RegistryRef {
  /** The name as written, domain included when one was: what a pinned URL keeps. */
  name: string;
  /** Where the registry API is: `host[:port]` (Docker Hub's API host for Docker Hub names). */
  registry: string;
  /** The repository in the API path: `/v2/<repository>/manifests/…` (`library/` added for Docker Hub). */
  repository: string;
  /** The tag as written; `latest` when neither tag nor digest was (`tagDefaulted`). */
  tag?: string;
  tagDefaulted?: boolean;
  /** `sha256:<hex>` when the URL pins one: then it is the identity, and no request is needed. */
  digest?: string;
}

export type RegistryRefResult = { ok: true; ref: RegistryRef } | { ok: false; message: string };

/** Parses a CDI registry source URL; only `docker://` names a registry the preflight can ask. */
export function parseRegistryRef(url: string): RegistryRefResult {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(url);
  if (!scheme) return fail(url, 'is not a docker:// URL');
  if (scheme[1]!.toLowerCase() !== 'docker') {
    const what = scheme[1]!.toLowerCase() === 'oci-archive' ? 'an image archive file, not a registry' : `scheme ${scheme[1]}`;
    return fail(url, `has ${what}; only docker:// images have a manifest digest to ask a registry for`);
  }
  let rest = url.slice(scheme[0].length);

  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return fail(url, `has digest ${JSON.stringify(digest)}, not sha256:<64 hex> (or sha512:<128 hex>)`);
  }
  // A tag follows the last ':' after the last '/' (a port's ':' sits before a '/').
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return fail(url, `has tag ${JSON.stringify(tag)}, which is not a valid tag`);
  }
  const name = rest;
  if (name === '') return fail(url, 'names no image');
  if (name.length > NAME_MAX) return fail(url, `has a name longer than ${NAME_MAX} characters`);

  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const hasDomain = slash >= 0 && (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase());
  const domain = hasDomain ? first : undefined;
  let path = hasDomain ? name.slice(slash + 1) : name;
  if (domain !== undefined && !DOMAIN.test(domain))
    return fail(url, `has registry host ${JSON.stringify(domain)}, which is not a host[:port]`);
  const bad = path.split('/').find((c) => !PATH_COMPONENT.test(c));
  if (bad !== undefined) {
    return fail(
      url,
      `has repository path component ${JSON.stringify(bad)}; components are lower-case letters, digits and . _ - separators`,
    );
  }

  const dockerHub = domain === undefined || DOCKER_HUB_DOMAINS.has(domain.toLowerCase());
  if (dockerHub && !path.includes('/')) path = `library/${path}`;
  const ref: RegistryRef = {
    name,
    registry: dockerHub ? DOCKER_HUB_API_HOST : domain!.toLowerCase(),
    repository: path,
  };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  if (tag === undefined && digest === undefined) {
    ref.tag = 'latest';
    ref.tagDefaulted = true;
  }
  return { ok: true, ref };
}

/**
 * The URL the golden imports: the name as written, pinned to `digest`, with no tag.
 * containers/image's docker transport refuses a reference with both ("Docker references with
 * both a tag and digest are currently not supported", docker/docker_transport.go newReference),
 * and `name@digest` names exactly the bytes the golden's key names.
 */
export function pinnedRegistryUrl(ref: RegistryRef, digest: string): string {
  return `docker://${ref.name}@${digest}`;
}

/** Whether `registry` (`host[:port]`) is in a CDIConfig-style insecure list (`host[:port]` entries). */
export function isInsecureRegistry(ref: RegistryRef, insecure: readonly string[]): boolean {
  const domain = ref.name.includes('/') ? ref.name.slice(0, ref.name.indexOf('/')).toLowerCase() : '';
  return insecure.some((e) => {
    const entry = e.trim().toLowerCase();
    return entry !== '' && (entry === ref.registry || entry === domain);
  });
}

/**
 * `INSECURE_REGISTRIES`: comma-separated `host[:port]`, as CDIConfig `spec.insecureRegistries`
 * lists them — registries the preflight may reach without verifying TLS, and over plain http
 * when they do not speak TLS (containers/image's fallback for insecure registries). Set it to
 * what CDIConfig lists, so the preflight reaches exactly the registries CDI's importer does.
 */
export const INSECURE_REGISTRIES_ENV = 'INSECURE_REGISTRIES';

export function insecureRegistriesFromEnv(env: NodeJS.ProcessEnv): string[] {
  return (env[INSECURE_REGISTRIES_ENV] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function fail(url: string, why: string): RegistryRefResult {
  // The URL may (wrongly) carry user info: never echo anything before an '@' in the authority.
  return { ok: false, message: `registry image ${safe(url)} ${why}` };
}

function safe(url: string): string {
  return JSON.stringify(url.replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)[^/@]*@(?=[^/]*\/)/, '$1'));
}
