/**
 * Magic-byte signatures (CDI `pkg/image/filefmt.go` knownHeaders, plus the formats CDI
 * does not know and silently imports as garbage). Detection is by bytes only, never by
 * file name, as in CDI.
 */
import type { ImageFormat } from './formats.js';

interface Signature {
  format: ImageFormat;
  offset: number;
  bytes: readonly number[];
}

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

/** ISO 9660: the primary volume descriptor's "CD001" after the 32 KiB system area. */
export const ISO_MAGIC_OFFSET = 0x8001;

/**
 * Checked in order. Offset-0 signatures first: they are what the file *is*; a `ustar` at
 * 257 or `CD001` at 0x8001 inside, say, a qcow2 is just payload.
 */
const SIGNATURES: readonly Signature[] = [
  { format: 'gz', offset: 0, bytes: [0x1f, 0x8b] },
  { format: 'zstd', offset: 0, bytes: [0x28, 0xb5, 0x2f, 0xfd] },
  { format: 'xz', offset: 0, bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { format: 'qcow2', offset: 0, bytes: [0x51, 0x46, 0x49, 0xfb] },
  { format: 'vmdk', offset: 0, bytes: ascii('KDMV') },
  // A VHD footer at offset 0 exists only in dynamic/differencing VHDs (a copy of the
  // footer); a fixed VHD carries it only in its last 512 bytes and sniffs as raw.
  { format: 'vhd', offset: 0, bytes: ascii('conectix') },
  { format: 'vhdx', offset: 0, bytes: ascii('vhdxfile') },
  { format: 'bz2', offset: 0, bytes: ascii('BZh') },
  // Local file header; also the empty-archive and spanned-archive markers.
  { format: 'zip', offset: 0, bytes: [0x50, 0x4b, 0x03, 0x04] },
  { format: 'zip', offset: 0, bytes: [0x50, 0x4b, 0x05, 0x06] },
  { format: 'zip', offset: 0, bytes: [0x50, 0x4b, 0x07, 0x08] },
  { format: '7z', offset: 0, bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c] },
  // LZ4 frame format, and the legacy frame `lz4 -l` still writes.
  { format: 'lz4', offset: 0, bytes: [0x04, 0x22, 0x4d, 0x18] },
  { format: 'lz4', offset: 0, bytes: [0x02, 0x21, 0x4c, 0x18] },
  // VDI: little-endian 0xBEDA107F after the 64-byte "<<< … Disk Image >>>" text.
  { format: 'vdi', offset: 0x40, bytes: [0x7f, 0x10, 0xda, 0xbe] },
  { format: 'tar', offset: 257, bytes: ascii('ustar') },
  { format: 'iso', offset: ISO_MAGIC_OFFSET, bytes: ascii('CD001') },
];

function matches(data: Uint8Array, sig: Signature): boolean {
  if (data.length < sig.offset + sig.bytes.length) return false;
  return sig.bytes.every((b, i) => data[sig.offset + i] === b);
}

/** The first signature found in `data`, or `raw` when none is (too short a buffer included). */
export function detectFormat(data: Uint8Array): ImageFormat {
  for (const sig of SIGNATURES) if (matches(data, sig)) return sig.format;
  return 'raw';
}
