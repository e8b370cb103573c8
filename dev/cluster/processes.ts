/**
 * Child processes that must never outlive the test run.
 *
 * Each component runs in its own process group (detached → setsid), so a terminal's Ctrl-C
 * reaches only our Node process, which then stops the components in order (apiserver and
 * controller-manager before etcd) instead of all dying at once mid-write; and so one
 * `kill(-pgid)` also takes any grandchildren. stdin is /dev/null and stdout/stderr go to a
 * log file: a child holding the caller's pipe would make `execSync`-style callers hang.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface Component {
  name: string;
  pid: number;
  logFile: string;
  process: ChildProcess;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  exited: Promise<number | string>;
  /** Set once the process has exited. */
  exitStatus?: number | string;
}

/** Starts `bin args…` in its own process group with output in `<logDir>/<name>.log`. */
export function spawnComponent(name: string, bin: string, args: string[], logDir: string): Component {
  const logFile = path.join(logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  let proc: ChildProcess;
  try {
    proc = spawn(bin, args, { stdio: ['ignore', fd, fd], detached: true });
  } finally {
    closeSync(fd); // the child has its own copy
  }
  if (proc.pid === undefined) throw new Error(`could not start ${name} (${bin})`);
  // Unref: the components must not keep a finished test process alive; the exit hooks
  // in control-plane.ts kill them instead.
  proc.unref();
  const component: Component = {
    name,
    pid: proc.pid,
    logFile,
    process: proc,
    exited: new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        component.exitStatus = code ?? signal ?? 'unknown';
        resolve(component.exitStatus);
      });
      // e.g. EACCES: there may be no 'exit' after this, and readiness waits must not hang.
      proc.once('error', (err) => {
        component.exitStatus ??= `spawn error: ${err.message}`;
        resolve(component.exitStatus);
      });
    }),
  };
  return component;
}

/** Signals a whole process group; a group that is already gone is not an error. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: already exited.
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
export async function stopComponent(c: Component, graceMs = 5000): Promise<void> {
  if (c.exitStatus !== undefined) {
    signalGroup(c.pid, 'SIGKILL'); // stray grandchildren, if any
    return;
  }
  signalGroup(c.pid, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const killed = await Promise.race([
    c.exited.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), graceMs);
    }),
  ]);
  clearTimeout(timer);
  if (killed) {
    signalGroup(c.pid, 'SIGKILL');
    await c.exited;
  }
}

/** The last `lines` lines of a component log, for start-up failure messages. */
export function logTail(file: string, lines = 30): string {
  if (!existsSync(file)) return '(no log)';
  const all = readFileSync(file, 'utf8').trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

/**
 * A detached shell that outlives us only to clean up: once our PID is gone (SIGKILL, OOM,
 * a crash past every exit hook) it kills the process groups listed in `<dir>/pids` and
 * removes `dir`. It exits by itself when `dir` disappears, which is what a clean stop does.
 */
export function spawnWatchdog(dir: string): ChildProcess {
  // Plain POSIX sh (dash): its `kill` takes `-<pgid>` but rejects `--`.
  const script = `
    parent=$1; dir=$2
    while kill -0 "$parent" 2>/dev/null && [ -d "$dir" ]; do sleep 1; done
    [ -d "$dir" ] || exit 0
    pids=$(awk '{print $2}' "$dir/pids" 2>/dev/null)
    for p in $pids; do kill -TERM "-$p" 2>/dev/null; done
    sleep 3
    for p in $pids; do kill -KILL "-$p" 2>/dev/null; done
    rm -rf "$dir"`;
  const proc = spawn('sh', ['-c', script, 'kmf-watchdog', String(process.pid), dir], { stdio: 'ignore', detached: true });
  proc.unref();
  return proc;
}
