import { Injectable, Logger } from '@nestjs/common';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Pauses between checks while a stale runner goes away. */
const POLL_MS = 50;

/**
 * The runner's pid file in the run directory. The card cannot be shared: a runner left behind by
 * a crashed service must be stopped before a new one is started.
 */
@Injectable()
export class RunnerPidFile {
  private readonly logger = new Logger(RunnerPidFile.name);

  path(runDir: string): string {
    return join(runDir, 'runner.pid');
  }

  async write(runDir: string, pid: number): Promise<void> {
    await mkdir(runDir, { recursive: true });
    await writeFile(this.path(runDir), `${pid}\n`);
  }

  async remove(runDir: string): Promise<void> {
    await rm(this.path(runDir), { force: true });
  }

  /** Stops the runner a previous service instance left running (if any): SIGTERM, then SIGKILL. */
  async stopStale(runDir: string, graceMs: number): Promise<number | null> {
    let pid: number;
    try {
      pid = Number.parseInt((await readFile(this.path(runDir), 'utf8')).trim(), 10);
    } catch {
      return null;
    }
    if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid || !(await this.isRunner(pid))) {
      await this.remove(runDir);
      return null;
    }
    this.logger.warn(`stopping stale runner pid ${pid} left by a previous service instance`);
    this.signal(pid, 'SIGTERM');
    if (!(await this.waitGone(pid, graceMs))) {
      this.signal(pid, 'SIGKILL');
      await this.waitGone(pid, graceMs);
    }
    await this.remove(runDir);
    return pid;
  }

  /** Only a process whose command line names a runner binary is ours to stop. */
  private async isRunner(pid: number): Promise<boolean> {
    try {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
      return /main_axcl_|runner-emulator/.test(cmdline);
    } catch {
      return false;
    }
  }

  private signal(pid: number, signal: NodeJS.Signals): void {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, signal);
        return;
      } catch {
        /* try the next form */
      }
    }
  }

  private async waitGone(pid: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        process.kill(pid, 0);
      } catch {
        return true;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    return false;
  }
}
