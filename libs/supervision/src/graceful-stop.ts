import { readFileSync } from 'node:fs';
import { Clock } from './clock';

/** A process to stop: its pid, a promise of its exit, and (for a REPL) a way to type into it. */
export interface StoppableProcess {
  readonly pid: number;
  /** Settles when the process has exited (the exit event of the child, or a probe for a non-child). */
  readonly exited: Promise<unknown>;
  /** Writes to its input (a pty or stdin); needed only when a quit command is given. */
  write?(data: string): void;
  /** Sends a signal; absent = signalProcessGroup(pid). A pty handle passes its own (it knows when it exited). */
  signal?(signal: NodeJS.Signals): void;
}

export interface GracefulStopOptions {
  /** Typed first (e.g. "q\n" at a REPL prompt); null/absent = start with SIGTERM. */
  quitCommand?: string | null;
  /** How long each step (quit, SIGTERM, SIGKILL) may take before the next one. */
  graceMs: number;
  clock: Clock;
  /** Told before each signal is sent (for logs). */
  onEscalate?(signal: 'SIGTERM' | 'SIGKILL'): void;
}

/** How the process ended: by the quit command, by SIGTERM, by SIGKILL, or not within the last grace. */
export type GracefulStopOutcome = 'quit' | 'SIGTERM' | 'SIGKILL' | 'still-running';

/**
 * Signals the process group led by `pid` (a pty child or a detached child is a group leader, so its
 * own children go too), falling back to the pid itself. False when neither exists any more.
 */
export function signalProcessGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, signal);
      return true;
    } catch {
      /* try the next form */
    }
  }
  return false;
}

/**
 * The one graceful-stop routine: the quit command (when given), then SIGTERM, then SIGKILL, each
 * to the process group (else the pid), each followed by up to `graceMs` of waiting for the exit
 * event. Never closes the process's input (a runner reading EOF loops forever).
 */
export async function stopGracefully(target: StoppableProcess, options: GracefulStopOptions): Promise<GracefulStopOutcome> {
  const { clock, graceMs } = options;
  let exited = false;
  const exit = target.exited.then(
    () => (exited = true),
    () => (exited = true),
  );
  const waitExit = (): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      if (exited) return resolve(true);
      const timer = clock.setTimeout(() => resolve(exited), graceMs);
      void exit.then(() => {
        clock.clearTimeout(timer);
        resolve(true);
      });
    });

  if (options.quitCommand && target.write) {
    target.write(options.quitCommand);
    if (await waitExit()) return 'quit';
  }
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    if (exited) return signal;
    options.onEscalate?.(signal);
    if (target.signal) target.signal(signal);
    else signalProcessGroup(target.pid, signal);
    if (await waitExit()) return signal;
  }
  return 'still-running';
}

/**
 * The exit of a process that is not our child (no exit event exists for it): probes it with
 * signal 0 every `intervalMs` of the clock. Resolves when it is gone.
 */
export function probeExit(pid: number, clock: Clock, intervalMs = 50): { exited: Promise<void>; cancel(): void } {
  let timer: ReturnType<Clock['setTimeout']> | null = null;
  let cancelled = false;
  const exited = new Promise<void>((resolve) => {
    const check = (): void => {
      if (cancelled) return;
      if (!isAlive(pid)) return resolve();
      timer = clock.setTimeout(check, intervalMs);
    };
    check();
  });
  return {
    exited,
    cancel: () => {
      cancelled = true;
      clock.clearTimeout(timer);
    },
  };
}

/** Alive = it exists and is not a zombie waiting for its parent to reap it. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: trust the signal probe
  }
}
