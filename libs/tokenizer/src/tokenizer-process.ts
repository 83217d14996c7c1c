import { Injectable } from '@nestjs/common';
import { findInstallRoot } from '@qwen/config';
import { childEnvironment } from '@qwen/supervision';
import { ChildProcess, fork, spawn } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenizerLaunch } from './tokenizer-strategy';

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
  /** IPC messages (our server only). */
  onMessage(listener: (message: unknown) => void): void;
  /** Sends an IPC message; false when there is no channel (upstream server, or the process is gone). */
  send(message: unknown): boolean;
  kill(signal: NodeJS.Signals): void;
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
 * Starts the tokenizer server: our Node server (fork, with IPC) or the upstream Python script
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
    let child: ChildProcess;
    const env = childEnvironment(process.env); // no secrets in the child
    try {
      child =
        launch.kind === 'fork'
          ? fork(launch.command, launch.args, { cwd: launch.cwd, env, stdio: ['ignore', fd, fd, 'ipc'], execArgv: [] })
          : spawn(launch.command, launch.args, { cwd: launch.cwd, env, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd); // the child holds its own copy
    }
    installExitHook();
    liveChildren.add(child);
    return new NodeTokenizerChild(child, launch.logFile);
  }
}

class NodeTokenizerChild implements TokenizerChild {
  private ended = false;
  private readonly exitListeners: ((exit: TokenizerExit) => void)[] = [];

  constructor(
    private readonly child: ChildProcess,
    private readonly logFile: string,
  ) {
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
    this.child.on('message', listener);
  }

  send(message: unknown): boolean {
    if (this.ended || !this.child.connected) return false;
    this.child.send(message as object);
    return true;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.ended) return;
    try {
      this.child.kill(signal);
    } catch {
      // already gone
    }
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
