/**
 * Decompresses the start of a gz or zstd stream, so the preflight can see what CDI will
 * find after peeling that layer (a tar inside gzip is as unbootable as a bare tar).
 * xz has no decompressor in Node, so its contents stay unknown.
 */
import { constants, gunzipSync, zstdDecompressSync, type ZlibOptions, type ZstdOptions } from 'node:zlib';
import type { ImageFormat } from './formats.js';

/**
 * Output cap per attempt. A truncated stream of zeros expands ~1000× (gzip) or far more
 * (zstd: 6 KiB can hold 200 MB), so an uncapped attempt could allocate gigabytes.
 */
const MAX_OUTPUT = 4 * 1024 * 1024;
/** Below this a prefix is unlikely to get past the stream header. */
const MIN_INPUT = 32;

type Inflate = (input: Uint8Array) => Buffer;

function inflater(format: ImageFormat): Inflate | undefined {
  if (format === 'gz') {
    // SYNC_FLUSH: return what the truncated input yields instead of "unexpected end of file".
    const opts: ZlibOptions = { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: MAX_OUTPUT };
    return (input) => gunzipSync(input, opts);
  }
  if (format === 'zstd') {
    const opts: ZstdOptions = { finishFlush: constants.ZSTD_e_flush, maxOutputLength: MAX_OUTPUT };
    return (input) => zstdDecompressSync(input, opts);
  }
  return undefined;
}

/**
 * The first decompressed bytes of a gz/zstd prefix, or undefined when the format cannot be
 * peeked or the prefix does not decompress. When the whole prefix expands past the cap,
 * ever shorter prefixes are tried: any of them still shows the inner header.
 */
export function peekDecompressed(format: ImageFormat, compressed: Uint8Array): Uint8Array | undefined {
  const inflate = inflater(format);
  if (!inflate) return undefined;
  let len = compressed.length;
  while (len > 0) {
    try {
      const out = inflate(compressed.subarray(0, len));
      return out.length > 0 ? out : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE') return undefined;
    }
    if (len <= MIN_INPUT) break;
    len = Math.max(MIN_INPUT, Math.floor(len / 2));
  }
  return undefined;
}
