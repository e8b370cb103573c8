/**
 * The local stack's image server with the files the tests need: a raw disk, its gzip, and a
 * bzip2 one made by the real `bzip2` (which CDI would "import" as garbage) where that tool
 * is installed (tests of it are gated on it: test/support/system-tools.ts).
 */
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { rawDisk, startImageServer as start, type ImageServer } from '../../../dev/stack/image-server.js';
import { hasTool } from '../../support/system-tools.js';

export type { ImageServer };
export { rawDisk };

export function startImageServer(): Promise<ImageServer> {
  const raw = rawDisk();
  const files = new Map([
    ['ubuntu.img', raw],
    ['ubuntu.img.gz', gzipSync(raw)],
  ]);
  if (hasTool('bzip2')) files.set('flatcar.img.bz2', execFileSync('bzip2', ['-c'], { input: raw }));
  return start(files);
}
