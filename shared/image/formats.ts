/**
 * The image formats the preflight tells apart, and what CDI's importer does with each
 * under `contentType: kubevirt` (reference: cdi-kubevirt.md §2).
 */

/** An image's outermost layer, as recognised from its first bytes. */
export type ImageFormat =
  'gz' | 'xz' | 'zstd' | 'bz2' | 'qcow2' | 'vmdk' | 'vdi' | 'vhd' | 'vhdx' | 'iso' | 'tar' | 'zip' | '7z' | 'lz4' | 'raw';

interface FormatInfo {
  /** Human name for messages. */
  description: string;
  /** A compressed byte stream: the file length says nothing about the disk size. */
  compression: boolean;
  /** Set when CDI would "import" it without error but leave an unbootable disk. */
  rejection?: string;
  /** Caveat worth telling a user even when the import works. */
  note?: string;
}

/** Every remedy ends on what CDI does take, so the user has one clear way out. */
const SERVE_INSTEAD = 'serve the raw or qcow2 image (optionally gz, xz or zstd compressed)';

const INFO: Record<ImageFormat, FormatInfo> = {
  gz: { description: 'gzip-compressed stream', compression: true },
  xz: { description: 'xz-compressed stream', compression: true },
  zstd: {
    description: 'zstd-compressed stream',
    compression: true,
    note: 'CDI decompresses zstd only since v1.57.0; older CDI writes the compressed bytes to the disk',
  },
  bz2: {
    description: 'bzip2-compressed stream',
    compression: true,
    rejection:
      'CDI does not decompress bzip2: it would write the compressed bytes to the disk and the VM would not boot; ' +
      'recompress as gz or xz (or zstd), or serve the raw or qcow2 image',
  },
  lz4: {
    description: 'LZ4-compressed stream',
    compression: true,
    rejection:
      'CDI does not decompress LZ4: it would write the compressed bytes to the disk and the VM would not boot; ' +
      'recompress as gz or xz (or zstd), or serve the raw or qcow2 image',
  },
  qcow2: { description: 'QCOW2 disk image', compression: false },
  vmdk: { description: 'VMDK (sparse) disk image', compression: false },
  vdi: { description: 'VirtualBox VDI disk image', compression: false },
  vhd: {
    description: 'VHD (dynamic) disk image',
    compression: false,
  },
  vhdx: { description: 'VHDX disk image', compression: false },
  iso: {
    description: 'ISO 9660 image',
    compression: false,
    note: 'imported as a raw disk; the VM boots from it only if the ISO is bootable as a disk (hybrid ISO)',
  },
  tar: {
    description: 'tar archive',
    compression: false,
    rejection:
      'CDI removed tar unwrapping in v1.10: with contentType kubevirt it would write the archive, headers and all, ' +
      `to the disk and the VM would not boot; ${SERVE_INSTEAD} itself, not inside a tar`,
  },
  zip: {
    description: 'zip archive',
    compression: false,
    rejection:
      'CDI does not unpack zip archives: it would write the archive bytes to the disk and the VM would not boot; ' +
      `extract the disk image and ${SERVE_INSTEAD}`,
  },
  '7z': {
    description: '7-Zip archive',
    compression: false,
    rejection:
      'CDI does not unpack 7-Zip archives: it would write the archive bytes to the disk and the VM would not boot; ' +
      `extract the disk image and ${SERVE_INSTEAD}`,
  },
  raw: {
    description: 'raw disk image (no known header)',
    compression: false,
    note:
      'no known header: CDI imports the bytes as they are. A fixed-size VHD also looks like this ' +
      '(its only footer is at the end) and imports correctly as raw',
  },
};

/** Human name of a format, e.g. `describeFormat('bz2')` → `bzip2-compressed stream`. */
export function describeFormat(format: ImageFormat): string {
  return INFO[format].description;
}

/** Static facts about a format; see {@link FormatInfo}. */
export function formatInfo(format: ImageFormat): Readonly<FormatInfo> {
  return INFO[format];
}

/** Compressions CDI peels (each at most once per image). */
export const CDI_DECOMPRESSES: ReadonlySet<ImageFormat> = new Set(['gz', 'xz', 'zstd']);
