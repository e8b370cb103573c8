/**
 * What a disk image's own header says: its virtual size (what the DataVolume must hold,
 * CDI fails with "DataVolume too small to contain image" otherwise) and features CDI
 * refuses. Reads only the first bytes; a field beyond them is reported as unknown.
 */
import type { ImageFormat } from './formats.js';
import { ISO_MAGIC_OFFSET } from './magic.js';

/** Header facts; every field optional because the header may be absent or cut short. */
export interface HeaderFacts {
  /** Size in bytes of the disk the image expands to. */
  virtualSize?: number;
  /** Why CDI would refuse or fail on this image despite a supported format. */
  problem?: string;
}

function view(data: Uint8Array): DataView {
  return new DataView(data.buffer, data.byteOffset, data.byteLength);
}

function has(data: Uint8Array, offset: number, length: number): boolean {
  return data.length >= offset + length;
}

/** qcow2 (big-endian): version@4, backing_file_offset@8, size@24, crypt_method@32. */
function qcow2(data: Uint8Array): HeaderFacts {
  if (!has(data, 0, 36)) return {};
  const v = view(data);
  const facts: HeaderFacts = { virtualSize: Number(v.getBigUint64(24)) };
  if (v.getBigUint64(8) !== 0n) {
    // CDI's qemu-img info validation: "Image %s is invalid because it has invalid backing file %s".
    facts.problem =
      'the qcow2 image has a backing file, which CDI refuses ("invalid backing file"); ' +
      'flatten it first: qemu-img convert -O qcow2 <image> <flat image>';
  } else if (v.getUint32(32) !== 0) {
    facts.problem =
      'the qcow2 image is encrypted; CDI has no key to convert it and the import fails; ' +
      'serve an unencrypted image (qemu-img convert with the key, to -O qcow2 or raw)';
  }
  return facts;
}

/** VMDK sparse extent header (little-endian): capacity in 512-byte sectors @12. */
function vmdk(data: Uint8Array): HeaderFacts {
  if (!has(data, 12, 8)) return {};
  return { virtualSize: Number(view(data).getBigUint64(12, true)) * 512 };
}

/** VHD footer copy (big-endian): current size @48. */
function vhd(data: Uint8Array): HeaderFacts {
  if (!has(data, 48, 8)) return {};
  return { virtualSize: Number(view(data).getBigUint64(48)) };
}

/** VDI header 1.1 (little-endian): disk size @0x170. */
function vdi(data: Uint8Array): HeaderFacts {
  if (!has(data, 0x170, 8)) return {};
  return { virtualSize: Number(view(data).getBigUint64(0x170, true)) };
}

/** ISO 9660 primary volume descriptor: volume space size @+80 (LE half), block size @+128. */
function iso(data: Uint8Array): HeaderFacts {
  const pvd = ISO_MAGIC_OFFSET - 1;
  if (!has(data, pvd + 128, 2)) return {};
  const v = view(data);
  return { virtualSize: v.getUint32(pvd + 80, true) * v.getUint16(pvd + 128, true) };
}

/**
 * Header facts for `format`. VHDX keeps its size in a metadata region far beyond the first
 * bytes, so it (like raw and the archives) reports nothing.
 */
export function inspectHeader(format: ImageFormat, data: Uint8Array): HeaderFacts {
  switch (format) {
    case 'qcow2':
      return qcow2(data);
    case 'vmdk':
      return vmdk(data);
    case 'vhd':
      return vhd(data);
    case 'vdi':
      return vdi(data);
    case 'iso':
      return iso(data);
    default:
      return {};
  }
}
