/**
 * Real image files for the sniff tests, made with the tools that make them in the wild
 * (qemu-img, xz, bzip2, zstd, lz4, genisoimage, tar, zip, 7zz; installed by
 * .ci/system-deps.sh). Each call works in a fresh temp dir.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { SNIFF_BYTES } from '../../../shared/image/sniff.js';

export class ImageDir {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'kmf-sniff-'));

  path(name: string): string {
    return path.join(this.dir, name);
  }

  /** Runs a tool in the temp dir; a missing tool fails with the fix, not a bare ENOENT. */
  run(cmd: string, args: string[], input?: Uint8Array): Buffer {
    try {
      return execFileSync(cmd, args, { cwd: this.dir, input, maxBuffer: 256 * 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new Error(`${cmd} is not installed: run bash .ci/system-deps.sh`, { cause: err });
      }
      throw err;
    }
  }

  /**
   * A raw disk (256 KiB by default): an MBR-style boot signature, zeros, then random bytes
   * from `randomFrom` on (random data earlier could, once in 2^16 runs, start with a magic
   * number).
   */
  raw(name = 'disk.raw', size = 256 * 1024, randomFrom = 64 * 1024): string {
    const data = Buffer.alloc(size);
    data[510] = 0x55;
    data[511] = 0xaa;
    randomBytes(size - randomFrom).copy(data, randomFrom);
    writeFileSync(this.path(name), data);
    return name;
  }

  /** `qemu-img create -f <fmt>`; returns the file name. */
  qemuImg(format: string, name: string, size: string, ...extra: string[]): string {
    this.run('qemu-img', ['create', '-q', '-f', format, ...extra, name, size]);
    return name;
  }

  /** Virtual size as qemu-img itself reports it: the oracle for header parsing. */
  qemuVirtualSize(name: string): number {
    const info = JSON.parse(this.run('qemu-img', ['info', '--output=json', name]).toString()) as { 'virtual-size': number };
    return info['virtual-size'];
  }

  /** gzip via Node's zlib (what `gzip` writes too: same 1F 8B header); level 1 for speed. */
  gzip(name: string): string {
    const out = `${name}.gz`;
    writeFileSync(this.path(out), gzipSync(this.readAll(name), { level: 1 }));
    return out;
  }

  /** `tool -k …` style compressors keep the input and add their suffix; fastest level. */
  compress(tool: 'xz' | 'bzip2' | 'zstd', name: string): string {
    const suffix = { xz: '.xz', bzip2: '.bz2', zstd: '.zst' }[tool];
    const level = { xz: '-0', bzip2: '-1', zstd: '-1' }[tool];
    this.run(tool, ['-q', '-k', '-f', level, name]);
    return name + suffix;
  }

  /** `lz4` frame format, or the legacy format with `-l`. */
  lz4(name: string, legacy = false): string {
    const out = `${name}${legacy ? '.legacy' : ''}.lz4`;
    this.run('lz4', ['-q', '-f', ...(legacy ? ['-l'] : []), name, out]);
    return out;
  }

  /** A small ISO 9660 image with one file. */
  iso(name = 'disk.iso'): string {
    const src = this.path('iso-root');
    mkdirSync(src, { recursive: true });
    writeFileSync(path.join(src, 'README.TXT'), 'hello\n');
    this.run('genisoimage', ['-quiet', '-V', 'TEST', '-o', name, 'iso-root']);
    return name;
  }

  write(name: string, data: Uint8Array): string {
    writeFileSync(this.path(name), data);
    return name;
  }

  readAll(name: string): Buffer {
    return readFileSync(this.path(name));
  }

  /** Only the first `n` bytes (default SNIFF_BYTES), read as the preflight will. */
  head(name: string, n = SNIFF_BYTES): Uint8Array {
    const fd = openSync(this.path(name), 'r');
    try {
      const buf = Buffer.alloc(n);
      const read = readSync(fd, buf, 0, n, 0);
      return buf.subarray(0, read);
    } finally {
      closeSync(fd);
    }
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
