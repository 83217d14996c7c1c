import { Injectable } from '@nestjs/common';
import { findInstallRoot } from '@qwen/config';
import { childEnvironment } from '@qwen/supervision';
import { ChildProcess, fork, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { appendFileSync, closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenizerLaunch } from './tokenizer-strategy';
import type { RegisterCommand } from './tokenizer.contract';

export interface TokenizerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started or controlled (e.g. ENOENT for the interpreter). */
  error?: string;
}

/** A running tokenizer server process. */
export interface TokenizerChild {
  readonly pid: number | null;
  readonly exited: boolean;
  /** Called once, when the process has ended (or could not be started). */
  onExit(listener: (exit: TokenizerExit) => void): void;
  /** IPC messages and registration answers (our server only). */
  onMessage(listener: (message: unknown) => void): void;
  /** Sends an IPC message; false when there is no channel (upstream server, or the process is gone). */
  send(message: unknown): boolean;
  /** Sends a registration over the registration channel; false when there is none (upstream server, or the process is gone). */
  register(command: RegisterCommand): boolean;
  kill(signal: NodeJS.Signals): void;
  /** The last line the process wrote (its error, usually, once it has ended), or null. */
  lastOutputLine(): string | null;
}

/** Children alive in this process: killed synchronously if the service exits, so none is orphaned. */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveChildren) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/**
 * How our tokenizer server process is run (docs/tokenizer.md, Memory): a young generation of 1 MB
 * per semi-space on its main thread (V8's default lets it grow to 16 MB per semi-space under a burst
 * of registrations, pages it keeps for good), and glibc's mmap threshold held at its default so large
 * buffers (1 MB IPC messages, the parse of tokenizer.json) are given back to the system when freed
 * instead of raising the threshold and staying in the heap. Measured: ~45 MB less after three
 * registration bursts, ~5 MB less at idle. Only V8 and glibc settings: nothing of the service's.
 */
export const BUILTIN_TOKENIZER_RUNTIME = {
  execArgv: ['--max-semi-space-size=1'],
  env: { MALLOC_MMAP_THRESHOLD_: '131072' },
} as const;

/**
 * The child's fd of the registration channel: a pipe (stdio index 4, after the IPC channel) that the
 * service alone holds the other end of and the tokenizer process's worker thread reads — registrations
 * never reach the thread that answers the runner (docs/tokenizer.md).
 */
export const REGISTRATION_FD = 4;

/**
 * Starts the tokenizer server: our Node server (fork, with IPC and the registration pipe) or the upstream Python script
 * (spawn, cwd = model directory). Its stdout/stderr are appended to `<logDir>/tokenizer.log`.
 * The only place that creates the process; tests swap this class for a fake.
 */
@Injectable()
export class TokenizerProcess {
  /** Where dist/ is: the builtin server's entry is relative to it. */
  readonly installRoot = findInstallRoot(__dirname);

  /** Throws when the program to run is missing (not built, or no upstream script). */
  start(launch: TokenizerLaunch): TokenizerChild {
    const program = launch.kind === 'fork' ? launch.command : join(launch.cwd, launch.args[0]);
    if (!existsSync(program)) {
      throw new Error(launch.kind === 'fork' ? `${program} is missing (run npm run build)` : `${program} is missing`);
    }
    mkdirSync(join(launch.logFile, '..'), { recursive: true });
    appendFileSync(launch.logFile, `\n==== tokenizer start ${new Date().toISOString()} (${launch.kind === 'fork' ? 'builtin' : 'upstream'})\n`);
    const fd = openSync(launch.logFile, 'a');
    const outputStart = fstatSync(fd).size;
    let child: ChildProcess;
    const env = childEnvironment(process.env); // no secrets in the child
    try {
      // detached: its own process group, so a Ctrl-C in the service's terminal (SIGINT to the whole
      // foreground group) reaches only the service, which stops the runner first and then this child.
      child =
        launch.kind === 'fork'
          ? fork(launch.command, [...launch.args, '--registration-fd', String(REGISTRATION_FD)], {
              cwd: launch.cwd,
              env: { ...env, ...BUILTIN_TOKENIZER_RUNTIME.env },
              stdio: ['ignore', fd, fd, 'ipc', 'pipe'],
              execArgv: [...BUILTIN_TOKENIZER_RUNTIME.execArgv],
              detached: true,
            })
          : spawn(launch.command, launch.args, { cwd: launch.cwd, env, stdio: ['ignore', fd, fd], detached: true });
    } finally {
      closeSync(fd); // the child holds its own copy
    }
    installExitHook();
    liveChildren.add(child);
    return new NodeTokenizerChild(child, launch.logFile, outputStart);
  }
}

class NodeTokenizerChild implements TokenizerChild {
  private ended = false;
  private readonly exitListeners: ((exit: TokenizerExit) => void)[] = [];
  private readonly messageListeners: ((message: unknown) => void)[] = [];
  /** Our server's registration channel (null: the upstream server, which has none). */
  private readonly registrations: (Readable & Writable) | null;

  constructor(
    private readonly child: ChildProcess,
    private readonly logFile: string,
    /** Where this process's output starts in the log file. */
    private readonly outputStart: number,
  ) {
    this.registrations = (child.stdio[REGISTRATION_FD] as (Readable & Writable) | undefined) ?? null;
    if (this.registrations) {
      readJsonLines(this.registrations, (message) => this.emitMessage(message));
      // The process's exit says what happened; a write to a process that is gone fails with EPIPE.
      this.registrations.on('error', () => undefined);
    }
    child.on('message', (message) => this.emitMessage(message));
    child.once('exit', (code, signal) => this.finish({ code, signal }));
    // 'error' without 'exit' = the program could not be started (ENOENT, EACCES).
    child.on('error', (error) => {
      if (child.pid === undefined || child.exitCode !== null) this.finish({ code: null, signal: null, error: error.message });
    });
  }

  get pid(): number | null {
    return this.child.pid ?? null;
  }

  get exited(): boolean {
    return this.ended;
  }

  onExit(listener: (exit: TokenizerExit) => void): void {
    this.exitListeners.push(listener);
  }

  onMessage(listener: (message: unknown) => void): void {
    this.messageListeners.push(listener);
  }

  send(message: unknown): boolean {
    if (this.ended || !this.child.connected) return false;
    this.child.send(message as object);
    return true;
  }

  register(command: RegisterCommand): boolean {
    const channel = this.registrations;
    if (this.ended || !channel || !channel.writable) return false;
    channel.write(`${JSON.stringify(command)}\n`);
    return true;
  }

  private emitMessage(message: unknown): void {
    for (const listener of this.messageListeners) listener(message);
  }

  kill(signal: NodeJS.Signals): void {
    if (this.ended) return;
    try {
      this.child.kill(signal);
    } catch {
      // already gone
    }
  }

  lastOutputLine(): string | null {
    return lastLineOf(readTail(this.logFile, this.outputStart));
  }

  private finish(exit: TokenizerExit): void {
    if (this.ended) return;
    this.ended = true;
    liveChildren.delete(this.child);
    try {
      appendFileSync(
        this.logFile,
        `==== tokenizer exit code=${exit.code ?? ''} signal=${exit.signal ?? ''}${exit.error ? ` error=${exit.error}` : ''} ${new Date().toISOString()}\n`,
      );
    } catch {
      // the log directory may be gone (tests); nothing to do
    }
    for (const listener of this.exitListeners) listener(exit);
  }
}

/**
 * Reads the registration channel's answers: one JSON document per line (JSON.stringify never writes
 * a raw newline). A line that is not JSON cannot come from our server and is skipped.
 */
function readJsonLines(stream: Readable, onValue: (value: unknown) => void): void {
  let parts: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => {
    let start = 0;
    for (let end = chunk.indexOf(0x0a); end !== -1; end = chunk.indexOf(0x0a, start)) {
      parts.push(chunk.subarray(start, end));
      const line = Buffer.concat(parts).toString('utf8');
      parts = [];
      start = end + 1;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        continue;
      }
      onValue(value);
    }
    if (start < chunk.length) parts.push(chunk.subarray(start));
  });
}

/** How much of the end of its output is searched for a process's last line. */
const TAIL_BYTES = 4096;

/** The end (at most TAIL_BYTES) of what a process appended to `file` after `from`; '' when unreadable. */
function readTail(file: string, from: number): string {
  try {
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      const start = Math.max(from, size - TAIL_BYTES);
      const buffer = Buffer.alloc(Math.max(0, size - start));
      readSync(fd, buffer, 0, buffer.length, start);
      return buffer.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}

/** The last meaningful line of a process's output: not blank, not a stack frame (`    at …`). */
export function lastLineOf(output: string): string | null {
  const lines = output
    .replace(/\x1b\[[0-9;]*m/g, '')
    .split(/\r?\n/)
    .map((line) => line.trimEnd())
    .filter((line) => line.trim().length > 0 && !/^\s+at\s/.test(line) && !line.startsWith('==== tokenizer '));
  const last = lines.at(-1);
  return last === undefined ? null : last.trim().slice(0, 300);
}
