/**
 * sniffImageFormat on real files made by the real tools, reading only the first
 * SNIFF_BYTES as the preflight does. No hand-typed magic bytes: every format here has a
 * tool in .ci/system-deps.sh; a test whose tool is missing is skipped and reported.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describeFormat, SNIFF_BYTES, sniffImageFormat, type ImageFormat } from '../../../shared/image/sniff.js';
import { ImageDir } from './image-files.js';
import { needing } from '../../support/system-tools.js';

const files = new ImageDir();
test.after(() => files.remove());

const sniff = (name: string) => sniffImageFormat(files.head(name));

function assertImportable(name: string, format: ImageFormat): ReturnType<typeof sniff> {
  const r = sniff(name);
  assert.is(r.format, format, name);
  assert.ok(r.importable, `${name}: ${r.reason}`);
  assert.is(r.reason, undefined);
  return r;
}

function assertRejected(name: string, format: ImageFormat, ...mentions: RegExp[]): ReturnType<typeof sniff> {
  const r = sniff(name);
  assert.is(r.format, format, name);
  assert.not.ok(r.importable, `${name} should not be importable`);
  assert.type(r.reason, 'string');
  for (const m of mentions) assert.match(r.reason!, m);
  return r;
}

test('SNIFF_BYTES covers the ISO 9660 magic at 0x8001', () => {
  assert.ok(SNIFF_BYTES >= 0x8001 + 5);
});

// --- importable ------------------------------------------------------------------------

test('raw disk (boot signature, zeros, random) → raw, importable, no size claimed', () => {
  const r = assertImportable(files.raw(), 'raw');
  assert.is(r.compression, false);
  assert.is(r.virtualSize, undefined);
});

for (const [fmt, size] of [
  ['qcow2', '5G'],
  ['vmdk', '2G'],
  ['vdi', '3G'],
  ['vpc', '1G'],
] as const) {
  needing(test, ['qemu-img'])(`qemu-img create -f ${fmt} → importable, virtual size as qemu-img info reports it`, () => {
    const name = files.qemuImg(fmt, `disk.${fmt}`, size);
    const r = assertImportable(name, fmt === 'vpc' ? 'vhd' : fmt);
    assert.is(r.compression, false);
    assert.is(r.virtualSize, files.qemuVirtualSize(name));
  });
}

needing(test, ['qemu-img'])('qemu-img create -f vhdx → vhdx, importable (size lives beyond the first bytes)', () => {
  const r = assertImportable(files.qemuImg('vhdx', 'disk.vhdx', '1G'), 'vhdx');
  assert.is(r.virtualSize, undefined);
});

needing(test, ['qemu-img'])('fixed VHD (qemu-img -f vpc -o subformat=fixed) has no header up front → raw, importable', () => {
  const r = assertImportable(files.qemuImg('vpc', 'fixed.vhd', '64M', '-o', 'subformat=fixed'), 'raw');
  assert.match(r.note!, /fixed-size VHD/);
});

needing(test, ['genisoimage'])('genisoimage ISO → iso, importable, size from the volume descriptor', () => {
  const name = files.iso();
  const r = assertImportable(name, 'iso');
  assert.is(r.virtualSize, files.readAll(name).length);
});

needing(test, ['genisoimage'])('an ISO cut below SNIFF_BYTES sniffs as raw: same verdict, importable', () => {
  const r = sniffImageFormat(files.head(files.iso('short.iso'), 0x8000));
  assert.is(r.format, 'raw');
  assert.ok(r.importable);
});

test('gzip (node:zlib) of a raw disk → gz, compression, inner raw', () => {
  const r = assertImportable(files.gzip(files.raw('g.raw')), 'gz');
  assert.is(r.compression, true);
  assert.is(r.inner?.format, 'raw');
});

needing(test, ['xz'])('xz CLI → xz, compression, importable; contents not inspected', () => {
  const r = assertImportable(files.compress('xz', files.raw('x.raw')), 'xz');
  assert.is(r.compression, true);
  assert.is(r.inner, undefined);
});

needing(test, ['zstd'])('zstd CLI → zstd, importable with the CDI ≥ v1.57 note', () => {
  const r = assertImportable(files.compress('zstd', files.raw('z.raw')), 'zstd');
  assert.is(r.compression, true);
  assert.match(r.note!, /v1\.57/);
  // zstd decodes whole blocks (up to 128 KiB); this disk's first block holds 64 KiB of
  // random data, so it is not complete within SNIFF_BYTES and the contents stay unknown.
  assert.is(r.inner, undefined);
});

needing(test, ['zstd'])('zstd of a compressible disk → inner visible through the first block', () => {
  const r = assertImportable(files.compress('zstd', files.raw('zc.raw', 1024 * 1024, 512 * 1024)), 'zstd');
  assert.is(r.inner?.format, 'raw');
});

needing(test, ['qemu-img', 'zstd'])('qcow2.gz and qcow2.zst → inner qcow2, virtual size read through the compression', () => {
  const qcow = files.qemuImg('qcow2', 'c.qcow2', '7G');
  const want = files.qemuVirtualSize(qcow);
  for (const name of [files.gzip(qcow), files.compress('zstd', qcow)]) {
    const r = sniff(name);
    assert.ok(r.importable, name);
    assert.is(r.inner?.format, 'qcow2', name);
    assert.is(r.virtualSize, want, name);
  }
});

needing(test, ['xz', 'genisoimage'])('iso.xz inside gzip: CDI peels gz then xz → importable', () => {
  const r = assertImportable(files.gzip(files.compress('xz', files.iso('nested.iso'))), 'gz');
  assert.is(r.inner?.format, 'xz');
});

needing(test, ['zstd'])('decompression bombs (64 MiB of zeros, gzip and zstd) stay bounded and sniff as raw', () => {
  const zeros = Buffer.alloc(64 * 1024 * 1024);
  const zst = files.write('zeros.zst', files.run('zstd', ['-q', '-c'], zeros));
  const gz = files.gzip(files.write('zeros', zeros));
  for (const name of [zst, gz]) {
    const started = Date.now();
    const r = sniff(name);
    assert.ok(r.importable, name);
    assert.is(r.inner?.format, 'raw', name);
    assert.ok(Date.now() - started < 5000, `${name} took ${Date.now() - started} ms`);
  }
});

// --- rejected ---------------------------------------------------------------------------

needing(test, ['bzip2'])('bzip2 CLI → bz2, rejected: CDI would write the compressed bytes; recompress', () => {
  const r = assertRejected(files.compress('bzip2', files.raw('b.raw')), 'bz2', /does not decompress bzip2/, /recompress as gz or xz/);
  assert.is(r.compression, true);
});

needing(test, ['tar'])('tar CLI → tar, rejected: CDI removed tar unwrapping in v1.10', () => {
  files.raw('t.raw');
  files.run('tar', ['-cf', 'disk.tar', 't.raw']);
  assertRejected('disk.tar', 'tar', /v1\.10/, /not inside a tar/);
});

needing(test, ['tar'])('tar -z (disk.raw.tar.gz, the GCE layout) → gz whose inner tar is rejected', () => {
  files.raw('disk.raw');
  files.run('tar', ['-czf', 'disk.tar.gz', 'disk.raw']);
  const r = assertRejected('disk.tar.gz', 'gz', /^gzip-compressed stream containing tar archive: /, /v1\.10/);
  assert.is(r.inner?.format, 'tar');
});

needing(test, ['zip'])('zip CLI → zip, rejected with the extract-and-serve remedy', () => {
  files.raw('zp.raw');
  files.run('zip', ['-q', 'disk.zip', 'zp.raw']);
  assertRejected('disk.zip', 'zip', /does not unpack zip/, /extract the disk image/);
});

needing(test, ['7zz'])('7zz CLI → 7z, rejected', () => {
  files.raw('s.raw');
  files.run('7zz', ['a', '-bd', '-bso0', 'disk.7z', 's.raw']);
  assertRejected('disk.7z', '7z', /7-Zip/, /extract the disk image/);
});

needing(test, ['lz4'])('lz4 CLI (frame and legacy -l) → lz4, rejected', () => {
  const raw = files.raw('l.raw');
  for (const name of [files.lz4(raw), files.lz4(raw, true)]) {
    assertRejected(name, 'lz4', /does not decompress LZ4/, /recompress/);
  }
});

test('gzip inside gzip → rejected: CDI peels each compression once', () => {
  const once = files.gzip(files.raw('gg.raw'));
  const r = assertRejected(
    files.gzip(once),
    'gz',
    /^gzip-compressed stream containing gzip-compressed stream: CDI decompresses each format at most once/,
  );
  assert.is(r.inner?.format, 'gz');
});

needing(test, ['qemu-img'])('qcow2 with a backing file (qemu-img -b) → rejected, flatten with qemu-img convert', () => {
  const base = files.qemuImg('qcow2', 'base.qcow2', '1G');
  const r = assertRejected(
    files.qemuImg('qcow2', 'overlay.qcow2', '1G', '-b', base, '-F', 'qcow2'),
    'qcow2',
    /backing file/,
    /qemu-img convert/,
  );
  assert.is(r.virtualSize, 1024 ** 3);
});

needing(test, ['qemu-img'])('encrypted qcow2 (qemu-img -o encrypt.format=aes) → rejected', () => {
  // LUKS sets the same header field (crypt_method 2 instead of 1), but creating a LUKS
  // image spends seconds in key derivation; the legacy AES format is instant.
  const name = files.qemuImg(
    'qcow2',
    'enc.qcow2',
    '64M',
    '--object',
    'secret,id=sec0,data=password',
    '-o',
    'encrypt.format=aes,encrypt.key-secret=sec0',
  );
  assertRejected(name, 'qcow2', /encrypted/);
});

needing(test, ['bzip2'])('bz2 inside gzip → rejected, the reason names both layers', () => {
  const r = assertRejected(
    files.gzip(files.compress('bzip2', files.raw('gb.raw'))),
    'gz',
    /^gzip-compressed stream containing bzip2-compressed stream: CDI does not decompress bzip2/,
  );
  assert.is(r.inner?.format, 'bz2');
});

// --- describeFormat ----------------------------------------------------------------------

test('describeFormat names every format', () => {
  const all: ImageFormat[] = ['gz', 'xz', 'zstd', 'bz2', 'qcow2', 'vmdk', 'vdi', 'vhd', 'vhdx', 'iso', 'tar', 'zip', '7z', 'lz4', 'raw'];
  const names = all.map(describeFormat);
  assert.is(new Set(names).size, all.length);
  assert.is(describeFormat('bz2'), 'bzip2-compressed stream');
  assert.is(describeFormat('qcow2'), 'QCOW2 disk image');
});

test.run();
