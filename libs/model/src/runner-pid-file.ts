import { Injectable, Logger } from '@nestjs/common';
import { Clock, probeExit, stopGracefully } from '@qwen/supervision';
import { mkdir, open, readFile, readlink, realpath, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** The runner a service instance starts: which program, in which directory. */
export interface RunnerIdentity {
  /** The runner binary, an absolute path into the model directory, e.g. …/main_axcl_x86. */
  binary: string;
  /** The runner's working directory (the service's own, under the run directory). */
  workDir: string;
}

/**
 * The runner's pid file in the run directory. The card cannot be shared: a runner left behind by
 * a crashed service must be stopped before a new one is started — but only a process that IS that
 * runner: a pid file can be stale (the pid reused) or written by someone else.
 */
@Injectable()
export class RunnerPidFile {
  private readonly logger = new Logger(RunnerPidFile.name);

  constructor(private readonly clock: Clock) {}

  path(runDir: string): string {
    return join(runDir, 'runner.pid');
  }

  async write(runDir: string, pid: number): Promise<void> {
    await mkdir(runDir, { recursive: true, mode: 0o700 });
    await writeFile(this.path(runDir), `${pid}\n`, { mode: 0o600 });
  }

  async remove(runDir: string): Promise<void> {
    await rm(this.path(runDir), { force: true });
  }

  /**
   * Stops the runner a previous service instance left running (if any): SIGTERM, then SIGKILL, to
   * that pid only (never its process group: whatever else is in it is not ours). The pid is signalled
   * only when its process is the model directory's runner (see isOurRunner).
   */
  async stopStale(runDir: string, runner: RunnerIdentity, graceMs: number): Promise<number | null> {
    let pid: number;
    try {
      pid = Number.parseInt((await readFile(this.path(runDir), 'utf8')).trim(), 10);
    } catch {
      return null;
    }
    if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid || !(await this.isOurRunner(pid, runner))) {
      await this.remove(runDir);
      return null;
    }
    this.logger.warn(`stopping stale runner pid ${pid} left by a previous service instance`);
    // Not our child: no exit event exists for it, so its exit is probed.
    const probe = probeExit(pid, this.clock);
    await stopGracefully({ pid, exited: probe.exited, signal: (signal) => signalPid(pid, signal) }, { graceMs, clock: this.clock });
    probe.cancel();
    await this.remove(runDir);
    return pid;
  }

  /**
   * From /proc: the process runs as our uid (status), in the runner's working directory (cwd), and its
   * executable (exe) is the model directory's runner binary. A runner that is a script (the
   * emulator's stand-in `#!/bin/sh … exec node …`) shows its interpreter as exe: for such a runner,
   * this Node's own executable is accepted instead. A command line is never trusted (anyone can
   * name a process main_axcl_x86).
   */
  private async isOurRunner(pid: number, runner: RunnerIdentity): Promise<boolean> {
    try {
      const [status, cwd, exe] = await Promise.all([readFile(`/proc/${pid}/status`, 'utf8'), readlink(`/proc/${pid}/cwd`), readlink(`/proc/${pid}/exe`)]);
      const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
      if (process.getuid && uid !== String(process.getuid())) return false;
      if (cwd !== (await realpath(resolve(runner.workDir)))) return false;
      const binary = await realpath(resolve(runner.binary));
      return exe === binary || ((await isScript(binary)) && exe === (await realpath(process.execPath)));
    } catch {
      return false;
    }
  }
}

async function isScript(path: string): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    await file.read(head, 0, 2, 0);
    return head.toString('latin1') === '#!';
  } finally {
    await file.close();
  }
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
