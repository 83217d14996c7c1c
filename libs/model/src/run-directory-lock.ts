import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MODEL_OPTIONS, ModelModuleOptions } from './model.options';

/** The lock file inside paths.runDir: the pid of the service instance that owns the directory. */
export const RUN_DIRECTORY_LOCK_FILE = 'qwen-chat.pid';

/**
 * One service instance owns a run directory: two instances sharing one would each take the other's
 * runner for a stale one and stop it, in a loop. Taken at module init (before the tokenizer and the
 * runner start, which happens at bootstrap); a second instance refuses to start, naming the owner's
 * pid. A lock left by an instance that is gone is taken over. Released at shutdown and at exit.
 * The directory is made 0700 (it holds the pid files and the generated admin token).
 */
@Injectable()
export class RunDirectoryLock implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RunDirectoryLock.name);
  private held: string | null = null;
  private readonly releaseAtExit = () => this.release();

  constructor(@Inject(MODEL_OPTIONS) private readonly options: ModelModuleOptions) {}

  onModuleInit(): void {
    this.acquire(resolve(this.options.paths.runDir));
  }

  onApplicationShutdown(): void {
    this.release();
  }

  private acquire(runDir: string): void {
    mkdirSync(runDir, { recursive: true, mode: 0o700 });
    chmodSync(runDir, 0o700);
    const file = join(runDir, RUN_DIRECTORY_LOCK_FILE);
    for (;;) {
      try {
        writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = ownerOf(file);
      if (owner !== null && owner !== process.pid && isAlive(owner)) {
        throw new Error(
          `the run directory ${runDir} belongs to another qwen-chat instance (pid ${owner}): stop it, or give this instance its own ` +
            `paths.runDir (QWEN_RUN_DIR), port and tokenizer port`,
        );
      }
      this.logger.warn(`taking over the run directory ${runDir}: its previous owner${owner === null ? '' : ` (pid ${owner})`} is gone`);
      rmSync(file, { force: true });
    }
    this.held = file;
    process.once('exit', this.releaseAtExit);
  }

  private release(): void {
    const file = this.held;
    if (file === null) return;
    this.held = null;
    process.off('exit', this.releaseAtExit);
    if (ownerOf(file) === process.pid) rmSync(file, { force: true });
  }
}

function ownerOf(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
