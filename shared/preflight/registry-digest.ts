/**
 * A registry image's manifest digest, as the registry states it now: what a golden image of a
 * `docker://` source is keyed by, so a re-pushed tag yields a new golden (the way CDI's
 * DataImportCron re-imports when the digest moves).
 *
 * OCI distribution-spec v1.1, "Pulling manifests": `HEAD /v2/<name>/manifests/<reference>`
 * answers with the `Docker-Content-Digest` header (the digest of the manifest bytes, which
 * the registry SHOULD send); a registry that omits it is asked with GET and the bytes are
 * hashed, which is the digest by definition. HEAD, not GET: Docker Hub counts a manifest GET
 * as a pull against its rate limit and a HEAD not (containers/image#1078 reads digests by HEAD
 * for that reason), so the preflight does not spend the pulls CDI's importers need. The Accept list is the manifest and index types
 * containers/image asks for, so the registry picks the same manifest CDI's importer will get
 * (for a multi-arch image: the index, whose digest names every platform's image).
 *
 * Anonymous pulls: a registry answers 401 with a Bearer challenge (Docker token authentication
 * spec); an anonymous token is fetched from the challenge's realm and the request retried once.
 * Credentials are never sent: the registry's `secretRef` belongs to CDI's importer.
 *
 * Every request goes through the image probe's SSRF guard, pinned to the addresses it
 * approved — the registry host and the token realm alike — under one deadline.
 *
 * Never rejects. Anything short of a digest is `unknown` with the reason: the Machine is then
 * not cached (its disk imports from the registry as machine-controller's does), because the
 * registry may well let CDI's importer in where it does not let the function in.
 */
import { createHash } from 'node:crypto';
import { isInsecureRegistry, type RegistryRef } from '../image/registry-ref.js';
import type { Cidr } from './cidr.js';
import { getFirstBytes, type HopResult } from './http-get.js';
import { beforeDeadline, DEFAULT_PROBE_TIMEOUT_MS } from './probe.js';
import { checkImageTarget, redactUrl, type Resolve } from './ssrf.js';
import { parseWwwAuthenticate } from './www-authenticate.js';

export interface RegistryDigestOptions {
  resolve: Resolve;
  allow: readonly Cidr[];
  /** Deadline for the whole lookup (token included). Default DEFAULT_PROBE_TIMEOUT_MS. */
  timeoutMs?: number;
  /** `host[:port]` of registries reached without TLS verification, or over plain http (CDIConfig insecureRegistries). */
  insecureRegistries?: readonly string[];
}

export type RegistryDigestResult =
  /** `fromUrl`: the URL pinned it, nothing was asked. */
  { kind: 'digest'; digest: string; fromUrl: boolean } | { kind: 'unknown'; reason: string };

/** What containers/image accepts for a manifest (docker/docker_image_src.go, manifest.DefaultRequestedManifestMIMETypes). */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

const DIGEST = /^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$/;
/** distribution-spec: registries SHOULD accept manifests up to 4 MiB; a client need not read more. */
const MANIFEST_MAX_BYTES = 4 * 1024 * 1024;
/** A token answer is a small JSON object. */
const TOKEN_MAX_BYTES = 64 * 1024;
const USER_AGENT = 'kubevirt-machine-functions-preflight';

type Step<T> = { ok: true; value: T } | { ok: false; reason: string; connectFailed?: boolean };

export async function resolveRegistryDigest(ref: RegistryRef, opts: RegistryDigestOptions): Promise<RegistryDigestResult> {
  if (ref.digest) return { kind: 'digest', digest: ref.digest, fromUrl: true };
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const insecure = isInsecureRegistry(ref, opts.insecureRegistries ?? []);
  // containers/image (docker/docker_client.go detectPropertiesHelper) tries https first and, for
  // an insecure registry only, plain http when https fails.
  const schemes = insecure ? (['https', 'http'] as const) : (['https'] as const);
  let last: Step<string> | undefined;
  for (const scheme of schemes) {
    last = await lookup(ref, scheme, { ...opts, timeoutMs }, deadline, insecure);
    if (last.ok || !last.connectFailed) break;
  }
  return last!.ok ? { kind: 'digest', digest: last!.value, fromUrl: false } : { kind: 'unknown', reason: last!.reason };
}

interface Ctx extends RegistryDigestOptions {
  timeoutMs: number;
}

async function lookup(ref: RegistryRef, scheme: 'https' | 'http', opts: Ctx, deadline: number, insecure: boolean): Promise<Step<string>> {
  const url = `${scheme}://${ref.registry}/v2/${ref.repository}/manifests/${ref.tag}`;
  const where = `registry ${ref.registry} (manifest ${ref.repository}:${ref.tag})`;
  const accept = { accept: MANIFEST_ACCEPT, 'user-agent': USER_AGENT };
  let auth: Record<string, string> = {};
  let hop = await send(url, 'HEAD', accept, opts, deadline, insecure, 0);
  if (!hop.ok) return hop;

  if (hop.value.status === 401) {
    const challenge = parseWwwAuthenticate(header(hop.value, 'www-authenticate') ?? '').find((c) => c.scheme === 'bearer');
    if (!challenge?.params.realm) {
      return fail(`${where} answered 401 without a Bearer challenge: it wants credentials, which the function does not have`);
    }
    const token = await anonymousToken(ref, challenge.params, opts, deadline, insecure);
    if (!token.ok) return token;
    auth = { authorization: `Bearer ${token.value}` };
    hop = await send(url, 'HEAD', { ...accept, ...auth }, opts, deadline, insecure, 0);
    if (!hop.ok) return hop;
    if (hop.value.status === 401 || hop.value.status === 403) {
      return fail(
        `${where} refuses an anonymous pull (${hop.value.status} with an anonymous token): a private image, whose credentials the function does not have`,
      );
    }
  }
  const { status } = hop.value;
  if (status === 404) {
    // Not refused permanently: some registries answer 404 for a private repository to
    // anonymous clients; CDI's importer, with its credentials, may find it.
    return fail(`${where} answered 404 (manifest unknown, or not visible without credentials)`);
  }
  if (status !== 200) return fail(`${where} answered ${status}${hop.value.statusText ? ` ${hop.value.statusText}` : ''}`);

  const stated = header(hop.value, 'docker-content-digest');
  if (stated !== undefined) {
    return DIGEST.test(stated)
      ? { ok: true, value: stated }
      : fail(`${where} sent Docker-Content-Digest ${JSON.stringify(stated)}, not a sha256 digest`);
  }
  // No header: the digest is the sha256 of the manifest bytes (distribution-spec "Content Digests").
  const got = await send(url, 'GET', { ...accept, ...auth }, opts, deadline, insecure, MANIFEST_MAX_BYTES + 1);
  if (!got.ok) return got;
  if (got.value.status !== 200 || !got.value.body) return fail(`${where} answered HEAD 200 but GET ${got.value.status}`);
  if (got.value.body.length > MANIFEST_MAX_BYTES) return fail(`${where} serves a manifest over 4 MiB without a Docker-Content-Digest`);
  return { ok: true, value: `sha256:${createHash('sha256').update(got.value.body).digest('hex')}` };
}

/**
 * An anonymous token from the challenge's realm (`GET realm?service=…&scope=…`, answer JSON
 * `token` or `access_token`). The realm gets the same SSRF guard as the registry; over plain
 * http only when the registry itself is insecure.
 */
async function anonymousToken(
  ref: RegistryRef,
  params: Record<string, string>,
  opts: Ctx,
  deadline: number,
  insecure: boolean,
): Promise<Step<string>> {
  let realm: URL;
  try {
    realm = new URL(params.realm!);
  } catch {
    return fail(`registry ${ref.registry} names a token realm that is not a URL`);
  }
  if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && insecure)) {
    return fail(
      `registry ${ref.registry} names token realm ${redactUrl(realm)}, which is not https (list the registry in INSECURE_REGISTRIES to allow http)`,
    );
  }
  if (params.service) realm.searchParams.set('service', params.service);
  realm.searchParams.set('scope', params.scope ?? `repository:${ref.repository}:pull`);
  const got = await send(
    realm.toString(),
    'GET',
    { accept: 'application/json', 'user-agent': USER_AGENT },
    opts,
    deadline,
    insecure,
    TOKEN_MAX_BYTES,
  );
  const at = `token realm ${redactUrl(realm)} of registry ${ref.registry}`;
  if (!got.ok) return { ok: false, reason: got.reason };
  if (got.value.status !== 200 || !got.value.body) return fail(`${at} answered ${got.value.status}: no anonymous token`);
  let token: unknown;
  try {
    const json = JSON.parse(got.value.body.toString('utf8')) as { token?: unknown; access_token?: unknown };
    token = json.token || json.access_token;
  } catch {
    return fail(`${at} answered something other than JSON`);
  }
  return typeof token === 'string' && token !== '' ? { ok: true, value: token } : fail(`${at} gave no token`);
}

/** One request through the SSRF guard; redirects are not followed (a manifest HEAD is not redirected). */
async function send(
  url: string,
  method: 'GET' | 'HEAD',
  headers: Record<string, string>,
  opts: Ctx,
  deadline: number,
  insecure: boolean,
  maxBytes: number,
): Promise<Step<Extract<HopResult, { type: 'response' }>>> {
  const shown = redactUrl(url);
  const check = await beforeDeadline(checkImageTarget(url, opts.resolve, opts.allow), deadline);
  if (check === undefined) return fail(`${shown} did not answer within ${opts.timeoutMs} ms`);
  if (!check.ok) return fail(check.message);
  const hop = await getFirstBytes(check, {
    method,
    headers,
    timeoutMs: deadline - Date.now(),
    maxBytes: Math.max(1, maxBytes),
    ...(insecure ? { skipTlsVerify: true } : {}),
  });
  if (hop.type === 'invalid') return fail(`${shown}: the request cannot be sent: ${hop.error.message}`);
  if (hop.type === 'failed') {
    return hop.timedOut
      ? fail(`${shown} did not answer within ${opts.timeoutMs} ms`)
      : { ok: false, connectFailed: true, reason: `${shown} is unreachable: ${hop.error.message || 'connection failed'}` };
  }
  return { ok: true, value: hop };
}

function header(hop: Extract<HopResult, { type: 'response' }>, name: string): string | undefined {
  const v = hop.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}
