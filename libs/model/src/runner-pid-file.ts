import { Injectable, Logger } from '@nestjs/common';
import { Clock, probeExit, stopGracefully } from '@qwen/supervision';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The runner's pid file in the run directory. The card cannot be shared: a runner left behind by
 * a crashed service must be stopped before a new one is started.
 */
@Injectable()
export class RunnerPidFile {
  private readonly logger = new Logger(RunnerPidFile.name);

  constructor(private readonly clock: Clock) {}

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

  /** Stops the runner a previous service instance left running (if any): SIGTERM, then SIGKILL, to its group. */
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
    // Not our child: no exit event exists for it, so its exit is probed.
    const probe = probeExit(pid, this.clock);
    await stopGracefully({ pid, exited: probe.exited }, { graceMs, clock: this.clock });
    probe.cancel();
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
}
