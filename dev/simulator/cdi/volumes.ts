/**
 * The simulator's stand-in for PersistentVolumes: one directory per DataVolume (by uid) under
 * the simulator's work directory, holding what the importer pod would mount — the volume
 * (`data/`, the disk is `data/disk.img`), scratch space (`scratch/`), the certConfigMap
 * (`certs/`) and the container's termination-message file. The work directory is created at
 * start and removed on stop; a DataVolume's directory goes when the DataVolume does.
 *
 * The importer runs with PATH = `<work>/bin`, which holds only qemu-img (linked from this
 * machine's PATH): CDI's importer execs `qemu-img` and, if it finds it, `nbdkit` with fixed
 * paths /tmp/nbdkit.{pid,sock} that concurrent importers on one host would share. Without nbdkit
 * it streams to scratch space and converts from there, as CDI does in a pod where nbdkit fails.
 */
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface VolumeDirs {
  root: string;
  /** The volume's mount (the pod's /data). */
  data: string;
  /** The disk for content type kubevirt (the pod's /data/disk.img). */
  disk: string;
  /** Scratch space (the pod's /scratch): emptied before every importer start. */
  scratch: string;
  /** certConfigMap keys as files (the pod's /certs). */
  certs: string;
  /** TMPDIR of the importer process. */
  tmp: string;
  /** The container's termination-message file (the pod's /dev/termination-log). */
  terminationLog: string;
}

/** The qemu-img the importer needs, or why it cannot run. */
export type Tools = { ok: true; path: string } | { ok: false; message: string };

export const QEMU_IMG_MISSING =
  "qemu-img not found in PATH: the simulator runs CDI's importer, which converts every http import with qemu-img (Debian/Ubuntu: apt-get install qemu-utils)";

export class VolumeStore {
  readonly root: string;
  private readonly bin: string;

  /** Creates the work directory under `parent` (default: the OS temp directory). */
  constructor(parent: string = tmpdir()) {
    mkdirSync(parent, { recursive: true });
    this.root = mkdtempSync(path.join(parent, 'kmf-simulator-'));
    this.bin = path.join(this.root, 'bin');
    mkdirSync(this.bin);
  }

  /** The directories of DataVolume `namespace/name` with `uid` (not created). */
  dirsFor(namespace: string, name: string, uid: string): VolumeDirs {
    const root = path.join(this.root, 'volumes', namespace, `${name}-${uid}`);
    const data = path.join(root, 'data');
    return {
      root,
      data,
      disk: path.join(data, 'disk.img'),
      scratch: path.join(root, 'scratch'),
      certs: path.join(root, 'certs'),
      tmp: path.join(root, 'tmp'),
      terminationLog: path.join(root, 'termination-log'),
    };
  }

  /**
   * Readies the directories for one importer start: the volume is kept (CDI's importer cleans
   * its target itself), scratch space, TMPDIR and the termination message start empty, certs
   * hold `certs` (file name → PEM).
   */
  prepare(dirs: VolumeDirs, certs: Record<string, string>): void {
    for (const d of [dirs.scratch, dirs.tmp, dirs.certs]) rmSync(d, { recursive: true, force: true });
    for (const d of [dirs.data, dirs.scratch, dirs.tmp, dirs.certs]) mkdirSync(d, { recursive: true });
    for (const [file, pem] of Object.entries(certs)) writeFileSync(path.join(dirs.certs, file), pem);
    writeFileSync(dirs.terminationLog, '');
  }

  /** Removes a DataVolume's directories (the PVC is gone). */
  remove(dirs: VolumeDirs): void {
    rmSync(dirs.root, { recursive: true, force: true });
  }

  /**
   * The importer's PATH: `<work>/bin` with qemu-img linked from `searchPath` (looked up on every
   * call, so installing qemu-img while the simulator runs is picked up).
   */
  tools(searchPath: string = process.env.PATH ?? ''): Tools {
    const found = which('qemu-img', searchPath);
    if (!found) return { ok: false, message: QEMU_IMG_MISSING };
    const link = path.join(this.bin, 'qemu-img');
    let current: string | undefined;
    try {
      current = readlinkSync(link);
    } catch {
      current = undefined;
    }
    if (current !== found) {
      if (current !== undefined) unlinkSync(link);
      symlinkSync(found, link);
    }
    return { ok: true, path: this.bin };
  }

  /** Removes the whole work directory. */
  removeAll(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** The first executable `name` in `searchPath`. */
function which(name: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return path.resolve(candidate);
    } catch {
      // not here
    }
  }
  return undefined;
}
