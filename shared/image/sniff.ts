/**
 * Image preflight: from an image's first bytes, tell what CDI's importer will make of it
 * (contentType `kubevirt`) before a DataVolume is created. CDI never fails on a bzip2, tar,
 * zip, 7z or LZ4 file: it writes the bytes to the disk, reports success, and the VM does
 * not boot (cdi-kubevirt.md §2). This module turns that silent failure into a message.
 *
 * Pure: no I/O. Callers fetch the first {@link SNIFF_BYTES} bytes (an HTTP Range request,
 * or the whole file when it is shorter) and pass them in.
 */
import { CDI_DECOMPRESSES, describeFormat, formatInfo, type ImageFormat } from './formats.js';
import { detectFormat } from './magic.js';
import { inspectHeader } from './disk-headers.js';
import { peekDecompressed } from './peek.js';

export type { ImageFormat } from './formats.js';
export { describeFormat } from './formats.js';

/**
 * How many leading bytes a caller should fetch: ISO 9660's `CD001` sits at 0x8001, so ISO
 * detection needs ≥ 32774 bytes; 32 KiB + 512 covers it with the whole descriptor sector
 * start. With fewer bytes an ISO sniffs as raw (same verdict: importable) but a tar needs
 * ≥ 262 and the disk headers' size fields up to 0x178.
 */
export const SNIFF_BYTES = 32 * 1024 + 512;

/** What the preflight concluded about one image. */
export interface SniffResult {
  /** The outermost layer (for `disk.qcow2.gz`: `gz`). */
  format: ImageFormat;
  /** Whether CDI would produce a usable disk from it, looking through gz/zstd layers. */
  importable: boolean;
  /**
   * The outer layer is a compressed stream (gz, xz, zstd, bz2, lz4): the file's length is
   * not the disk's size. Whether CDI unpacks it is `importable`'s business.
   */
  compression: boolean;
  /** Set when `importable` is false: what goes wrong and what to serve instead. */
  reason?: string;
  /** Bytes of disk the image expands to, when a header states it (qcow2, vmdk, vdi, vhd, iso). */
  virtualSize?: number;
  /** What a gz/zstd stream starts with, when its first bytes could be decompressed. */
  inner?: SniffResult;
  /** A caveat for humans that does not change the verdict. */
  note?: string;
}

/**
 * Sniffs an image from its first bytes (pass `min(SNIFF_BYTES, file size)` bytes).
 * Unrecognised content is `raw`, which CDI imports as is.
 */
export function sniffImageFormat(firstBytes: Uint8Array): SniffResult {
  return sniff(firstBytes, new Set());
}

/** `peeled`: compressions already removed on the way in; CDI peels each at most once. */
function sniff(data: Uint8Array, peeled: ReadonlySet<ImageFormat>): SniffResult {
  const format = detectFormat(data);
  const info = formatInfo(format);
  const result: SniffResult = { format, importable: true, compression: info.compression };

  if (CDI_DECOMPRESSES.has(format) && peeled.has(format)) {
    return reject(
      result,
      'CDI decompresses each format at most once, so this inner stream would be written to the disk ' +
        'as it is and the VM would not boot; remove one layer of compression',
    );
  }
  if (info.rejection) return reject(result, info.rejection);

  const facts = inspectHeader(format, data);
  if (facts.virtualSize !== undefined) result.virtualSize = facts.virtualSize;
  if (facts.problem) return reject(result, facts.problem);
  if (info.note) result.note = info.note;

  if (CDI_DECOMPRESSES.has(format)) {
    const inside = peekDecompressed(format, data);
    if (inside) {
      const inner = sniff(inside, new Set([...peeled, format]));
      result.inner = inner;
      if (inner.virtualSize !== undefined) result.virtualSize = inner.virtualSize;
      if (!inner.importable) {
        return reject(result, `${describeFormat(format)} containing ${describeFormat(inner.format)}: ${inner.reason}`);
      }
    }
  }
  return result;
}

function reject(result: SniffResult, reason: string): SniffResult {
  return { ...result, importable: false, reason };
}
