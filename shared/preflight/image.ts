/**
 * The image preflight the machine function runs before it creates anything: for an http
 * DataVolume source, SSRF guard → first bytes → format sniff; refuse what CDI would fail on
 * or, worse, "import" into an unbootable disk. For a registry source (when asked to: the
 * image cache needs it), the manifest digest the tag points at now, which keys its golden.
 */
import { describeFormat, sniffImageFormat, type ImageFormat, type SniffResult } from '../image/sniff.js';
import type { DataVolumeSource } from '../providerspec/types.js';
import type { Cidr } from './cidr.js';
import { probeImage } from './probe.js';
import { parseRegistryRef } from '../image/registry-ref.js';
import { resolveRegistryDigest } from './registry-digest.js';
import type { PermanentReason, TransientReason } from './reasons.js';
import { redactUrl, type Resolve } from './ssrf.js';

export interface PreflightDeps {
  resolve: Resolve;
  allow: readonly Cidr[];
  /** Deadline for the whole probe; default 5000 ms. */
  timeoutMs?: number;
  /**
   * Credentials from the source's `secretRef` Secret (keys `accessKeyId` / `secretKey`),
   * read by the caller. Without them a 401/403 on a source that has a `secretRef` does not
   * fail the preflight: the server may well accept CDI's credentials.
   */
  basicAuth?: { user: string; password: string };
  /** Bytes to sniff; default SNIFF_BYTES. */
  maxBytes?: number;
  /**
   * Ask a `docker://` registry source's registry for its manifest digest (the golden image
   * key). Off: registry sources are not probed at all, as machine-controller never did.
   */
  registryDigests?: boolean;
  /** `host[:port]` of registries without verified TLS (INSECURE_REGISTRIES, as CDIConfig insecureRegistries). */
  insecureRegistries?: readonly string[];
}

export type PreflightResult =
  | {
      ok: true;
      /** Undefined when nothing was probed (see `skipped`). */
      format?: ImageFormat;
      /** Disk size the image expands to, when its header states it. */
      virtualSize?: number;
      /** The file's length, when the server said. */
      size?: number;
      /** ETag / Last-Modified the server gave: with the length, the content's identity. */
      etag?: string;
      lastModified?: string;
      /** A caveat that does not block (e.g. zstd needs CDI ≥ 1.57). */
      note?: string;
      /** Why the image was not examined: not an http source, or credentials not given. */
      skipped?: string;
      /** A registry image's manifest digest (`sha256:…`): the URL's own, or the registry's answer for its tag. */
      digest?: string;
      /**
       * Why a registry image's digest could not be learnt (unreachable, private, not docker://):
       * it must not be cached — a golden keyed by its URL alone would outlive a re-pushed tag.
       */
      uncached?: string;
      sniff?: SniffResult;
    }
  | { ok: false; permanent: true; reason: PermanentReason; message: string }
  | { ok: false; permanent: false; reason: TransientReason; message: string };

/**
 * Preflights one DataVolume source. PVC sources, and registry sources unless
 * `registryDigests`, are not probed (ok, skipped): CDI reads them through their own
 * credentials and transports. A registry source never fails the preflight: a digest that
 * cannot be learnt only means the image is not cached (`uncached`).
 * Never rejects; every failure is a result with a named reason.
 */
export async function preflightImage(source: DataVolumeSource, deps: PreflightDeps): Promise<PreflightResult> {
  if ('registry' in source && deps.registryDigests) return preflightRegistry(source.registry.url, deps);
  if (!('http' in source)) {
    return { ok: true, skipped: `${'registry' in source ? 'registry' : 'pvc'} source: not probed` };
  }
  const { url, extraHeaders, secretRef } = source.http;
  const probe = await probeImage(url, {
    resolve: deps.resolve,
    allow: deps.allow,
    ...(extraHeaders ? { headers: extraHeaders } : {}),
    ...(deps.basicAuth ? { basicAuth: deps.basicAuth } : {}),
    ...(deps.timeoutMs !== undefined ? { timeoutMs: deps.timeoutMs } : {}),
    ...(deps.maxBytes !== undefined ? { maxBytes: deps.maxBytes } : {}),
  });

  if (probe.kind === 'transient') return { ok: false, permanent: false, reason: probe.reason, message: probe.message };
  if (probe.kind === 'permanent') {
    if (probe.reason === 'ImageAccessDenied' && secretRef && !deps.basicAuth) {
      return {
        ok: true,
        skipped: `${probe.message}; the format was not checked because the credentials in Secret ${secretRef} were not given to the preflight`,
      };
    }
    return { ok: false, permanent: true, reason: probe.reason, message: probe.message };
  }

  const where = probe.redirects > 0 ? `image URL ${redactUrl(url)} (redirected to ${probe.url})` : `image URL ${probe.url}`;
  if (probe.bytes.length === 0) {
    return {
      ok: false,
      permanent: true,
      reason: 'ImageEmpty',
      message: `${where} is an empty file; CDI would create an empty disk and the VM would not boot`,
    };
  }
  const sniff = sniffImageFormat(probe.bytes);
  if (!sniff.importable) {
    return {
      ok: false,
      permanent: true,
      reason: 'ImageFormatUnsupported',
      message: `${where} is a ${describeFormat(sniff.format)}: ${sniff.reason ?? 'CDI cannot import it'}`,
    };
  }
  return {
    ok: true,
    format: sniff.format,
    ...(sniff.virtualSize !== undefined ? { virtualSize: sniff.virtualSize } : {}),
    ...(probe.size !== undefined ? { size: probe.size } : {}),
    ...(probe.etag !== undefined ? { etag: probe.etag } : {}),
    ...(probe.lastModified !== undefined ? { lastModified: probe.lastModified } : {}),
    ...(sniff.note ? { note: sniff.note } : {}),
    sniff,
  };
}

/** The registry's digest for a `docker://` image; anything else is ok, uncached, with the reason. */
async function preflightRegistry(url: string, deps: PreflightDeps): Promise<PreflightResult> {
  const parsed = parseRegistryRef(url);
  if (!parsed.ok) return { ok: true, uncached: parsed.message };
  const r = await resolveRegistryDigest(parsed.ref, {
    resolve: deps.resolve,
    allow: deps.allow,
    ...(deps.timeoutMs !== undefined ? { timeoutMs: deps.timeoutMs } : {}),
    ...(deps.insecureRegistries ? { insecureRegistries: deps.insecureRegistries } : {}),
  });
  return r.kind === 'digest' ? { ok: true, digest: r.digest } : { ok: true, uncached: r.reason };
}
