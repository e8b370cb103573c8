/**
 * One start of the importer container of an http DataVolume: CDI's own importer
 * (dev/upstream/go/cdi-importer, kubevirt.io/containerized-data-importer pkg/importer) as a
 * process, with the volume directories in place of the pod's mounts and the environment the
 * pod would get (OWNER_UID, IMPORTER_ACCESS_KEY_ID / IMPORTER_SECRET_KEY,
 * IMPORTER_EXTRA_HEADER_<n>) and nothing of ours.
 *
 * It runs in a process group of its own, so aborting (DataVolume deleted, simulator stopping)
 * kills it and any qemu-img it started; the promise settles only once the process is gone.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { abortError } from '../lifetime.js';
import { terminatedState, type Terminated } from './termination.js';
import type { VolumeDirs } from './volumes.js';

export interface ImporterRun {
  binary: string;
  url: string;
  contentType: string;
  /** The PVC's size (IMPORTER_IMAGE_SIZE); undefined → the free space where the volume lives. */
  imageSize?: string;
  checksum?: string;
  /** The DataVolume's uid: the progress metric's ownerUID label. */
  ownerUid: string;
  dirs: VolumeDirs;
  /** Whether certConfigMap files were given (IMPORTER_CERT_DIR). */
  withCerts: boolean;
  /** Basic auth and extra header variables. */
  env: Record<string, string>;
  /** PATH of the process: a directory holding qemu-img. */
  toolPath: string;
  signal: AbortSignal;
  /** The importer's progress metric text, each time it changes. */
  onMetrics: (text: string) => void;
}

/** Grace between SIGTERM and SIGKILL when a running importer is aborted. */
const KILL_GRACE_MS = 500;
/** Log kept for the FallbackToLogsOnError termination message. */
const LOG_KEEP_BYTES = 64 * 1024;

/** Runs the importer to its end; resolves with the container's terminated state, rejects with an AbortError when aborted. */
export function runImporter(run: ImporterRun): Promise<Terminated> {
  if (run.signal.aborted) return Promise.reject(abortError());
  const args = [
    `-url=${run.url}`,
    `-content-type=${run.contentType}`,
    `-data-dir=${run.dirs.data}`,
    `-scratch-dir=${run.dirs.scratch}`,
    `-termination-log=${run.dirs.terminationLog}`,
  ];
  if (run.imageSize) args.push(`-image-size=${run.imageSize}`);
  if (run.checksum) args.push(`-checksum=${run.checksum}`);
  if (run.withCerts) args.push(`-cert-dir=${run.dirs.certs}`);

  return new Promise((resolve, reject) => {
    const child = spawn(run.binary, args, {
      env: { PATH: run.toolPath, TMPDIR: run.dirs.tmp, OWNER_UID: run.ownerUid, ...run.env },
      cwd: run.dirs.tmp,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: abort kills qemu-img too
    });
    let log = '';
    let stdout = '';
    let killTimer: NodeJS.Timeout | undefined;
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      log = (log + s).slice(-LOG_KEEP_BYTES);
    });
    // Each reading is a whole metric family; it ends with the sample line.
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      const end = stdout.lastIndexOf('\n');
      if (end < 0) return;
      const complete = stdout.slice(0, end + 1);
      stdout = stdout.slice(end + 1);
      run.onMetrics(complete);
    });
    const killGroup = (sig: NodeJS.Signals): void => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    };
    const onAbort = (): void => {
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
    };
    run.signal.addEventListener('abort', onAbort, { once: true });
    child.once('error', (e) => {
      run.signal.removeEventListener('abort', onAbort);
      reject(run.signal.aborted ? abortError() : e);
    });
    child.once('close', (code, sig) => {
      run.signal.removeEventListener('abort', onAbort);
      clearTimeout(killTimer);
      if (run.signal.aborted) return reject(abortError());
      killGroup('SIGKILL'); // a qemu-img left behind by an importer that died
      let file: string;
      try {
        file = readFileSync(run.dirs.terminationLog, 'utf8');
      } catch {
        file = '';
      }
      // A signal is exit code 128+n to the kubelet.
      const exitCode = code ?? 128 + (sig ? constants.signals[sig] : 0);
      resolve(terminatedState(exitCode, file, log));
    });
  });
}
