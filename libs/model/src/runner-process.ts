import { Injectable } from '@nestjs/common';
import { signalProcessGroup } from '@qwen/supervision';
import { chmod, copyFile, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as pty from 'node-pty';
import { ModelLogFile, RunnerOutputKind } from './model-log-file';

/** A file written into the runner's working directory before it starts: given content, or a copy (absent source = no file). */
export type RunnerWorkFile = { content: string } | { copyFrom: string };

export interface RunnerSpawnOptions {
  /** The runner binary: absolute, or relative to cwd (e.g. ./main_axcl_x86). */
  binary: string;
  args: string[];
  /** The runner's working directory (created when missing); relative paths in `args` are relative to it. */
  cwd: string;
  /** Files to (re)write in cwd first, by name (post_config.json: the runner reads it from there at load). */
  files?: Record<string, RunnerWorkFile>;
  env: Record<string, string>;
  /** Output is appended here, line by line, timestamped and tagged (model.log: ModelLogFile). */
  logFile: string;
  /** Keep the model's text in the log (config model.logModelText). */
  keepModelText: boolean;
}

export interface RunnerExit {
  exitCode: number;
  signal: number | null;
}

/** A running runner under a pseudo-terminal. */
export interface RunnerHandle {
  readonly pid: number;
  write(data: string): void;
  onData(listener: (chunk: string) => void): void;
  /** Called once the runner exited AND its last output was delivered (node-pty waits for the pty to close). */
  onExit(listener: (exit: RunnerExit) => void): void;
  /** Signals the runner's whole process group (it is a session leader under the pty). */
  signalGroup(signal: NodeJS.Signals): void;
  /** What the runner prints from now on (model text during a turn), for the log's tags. */
  setOutputKind(kind: RunnerOutputKind): void;
}

/**
 * Starts the runner under node-pty. The terminal is first told not to echo, not to map `\n` to
 * `\r\n`, and not to flush its queues on Ctrl-C (`stty -echo -onlcr noflsh`): without `noflsh` a
 * Ctrl-C that arrives as a turn ends throws away the ">> " the runner just printed (or a typed line
 * it has not read yet). Then the shell `exec`s the runner, so the pid we hold is the runner's and
 * Ctrl-C (0x03) typed on the pty reaches it as SIGINT.
 */
@Injectable()
export class RunnerProcess {
  async spawn(options: RunnerSpawnOptions): Promise<RunnerHandle> {
    await this.ensureExecutable(resolve(options.cwd, options.binary));
    await this.prepareWorkDir(options.cwd, options.files ?? {});
    const log = new ModelLogFile(options.logFile, { keepModelText: options.keepModelText });
    log.note(`runner start ${options.binary}`);
    const child = pty.spawn(
      '/bin/sh',
      ['-c', '  stty -echo -onlcr noflsh 2>/dev/null; exec "$0" "$@"', options.binary, ...options.args],
      { name: 'xterm', cols: 200, rows: 50, cwd: options.cwd, env: options.env, encoding: 'utf8' },
    );
    return new PtyRunnerHandle(child, log);
  }

  private async prepareWorkDir(cwd: string, files: Record<string, RunnerWorkFile>): Promise<void> {
    await mkdir(cwd, { recursive: true });
    for (const [name, file] of Object.entries(files)) {
      const target = join(cwd, name);
      await rm(target, { force: true });
      if ('content' in file) await writeFile(target, file.content);
      else await copyFile(file.copyFrom, target).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
  }

  /** Upstream ships the runner without the executable bit: add it (u+x, g+x, o+x). */
  async ensureExecutable(path: string): Promise<void> {
    const info = await stat(path);
    if ((info.mode & 0o111) !== 0o111) await chmod(path, info.mode | 0o111);
  }
}

class PtyRunnerHandle implements RunnerHandle {
  private exited = false;
  private outputKind: RunnerOutputKind = 'runtime';

  constructor(
    private readonly child: pty.IPty,
    private readonly log: ModelLogFile,
  ) {
    child.onData((chunk) => log.write(chunk, this.outputKind));
    child.onExit(({ exitCode, signal }) => {
      this.exited = true;
      log.note(`runner exit code=${exitCode} signal=${signal ?? 0}`);
      log.close();
    });
  }

  setOutputKind(kind: RunnerOutputKind): void {
    this.outputKind = kind;
  }

  get pid(): number {
    return this.child.pid;
  }

  write(data: string): void {
    if (!this.exited) this.child.write(data);
  }

  onData(listener: (chunk: string) => void): void {
    this.child.onData(listener);
  }

  onExit(listener: (exit: RunnerExit) => void): void {
    this.child.onExit(({ exitCode, signal }) => listener({ exitCode, signal: signal || null }));
  }

  signalGroup(signal: NodeJS.Signals): void {
    if (!this.exited) signalProcessGroup(this.child.pid, signal);
  }
}
