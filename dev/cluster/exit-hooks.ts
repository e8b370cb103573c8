/**
 * Makes sure running control planes die with the process that started them.
 *
 * - 'exit' (normal end, process.exit, uncaught exception): only synchronous work is
 *   possible there, so every component gets SIGKILL and the temp dir is removed.
 * - SIGINT/SIGTERM (opt-in, because a handler replaces Node's default of exiting): the
 *   graceful stop runs, then the process exits with 128+signal. A second signal while
 *   stopping falls back to the synchronous kill.
 * - SIGKILL cannot be caught: the watchdog shell in processes.ts covers that case.
 */
import os from 'node:os';

export interface Stoppable {
  /** Synchronous last resort: SIGKILL everything, remove the temp dir. */
  killNow(): void;
  stop(): Promise<void>;
}

const live = new Set<Stoppable>();
const signalOwners = new Set<Stoppable>();
let exitHookInstalled = false;
let stopping = false;

function onExit(): void {
  for (const s of live) s.killNow();
}

function onSignal(signal: NodeJS.Signals): void {
  const code = 128 + (os.constants.signals[signal] ?? 1);
  if (stopping) {
    onExit();
    process.exit(code);
  }
  stopping = true;
  process.stderr.write(`\n${signal}: stopping the control plane…\n`);
  void Promise.allSettled([...live].map((s) => s.stop())).then(() => process.exit(code));
}

/**
 * Registers a running control plane; call the returned function once it has stopped.
 * With `handleSignals`, SIGINT/SIGTERM stop it and then end the process.
 */
export function track(s: Stoppable, handleSignals: boolean): () => void {
  live.add(s);
  if (!exitHookInstalled) {
    process.on('exit', onExit);
    exitHookInstalled = true;
  }
  if (handleSignals) {
    if (signalOwners.size === 0) {
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    }
    signalOwners.add(s);
  }
  return () => {
    live.delete(s);
    if (signalOwners.delete(s) && signalOwners.size === 0) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  };
}
