import { Injectable } from '@nestjs/common';
import { spawn } from 'node:child_process';

/** What became of one run of an external status tool. */
export type CommandOutcome =
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }
  /** The program does not exist (ENOENT): not an error for an optional tool. */
  | { kind: 'not-found'; message: string }
  /** It ran past the deadline and its whole process group was killed. */
  | { kind: 'timed-out'; timeoutMs: number; stdout: string; stderr: string }
  /** It could not be started for another reason (permissions…). */
  | { kind: 'failed'; message: string };

/** Output kept per stream; a status tool prints a few kilobytes. */
const MAX_OUTPUT_BYTES = 64 * 1024;

/**
 * Runs a short-lived external program ALWAYS under a deadline. The program gets its own process
 * group so that a hung tool and anything it started are killed together (SIGKILL) at the deadline.
 * Injectable so that tests can replace it.
 */
@Injectable()
export class CommandRunner {
  run(file: string, args: string[], options: { timeoutMs: number }): Promise<CommandOutcome> {
    return new Promise<CommandOutcome>((resolve) => {
      let settled = false;
      const finish = (outcome: CommandOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const child = spawn(file, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      const stdout = new BoundedText(MAX_OUTPUT_BYTES);
      const stderr = new BoundedText(MAX_OUTPUT_BYTES);
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      const timer = setTimeout(() => {
        killGroup(child.pid, () => child.kill('SIGKILL'));
        // Do not wait for the pipes: a grandchild may still hold them open.
        finish({ kind: 'timed-out', timeoutMs: options.timeoutMs, stdout: stdout.text(), stderr: stderr.text() });
      }, options.timeoutMs);
      child.once('error', (error: NodeJS.ErrnoException) => {
        finish(error.code === 'ENOENT' ? { kind: 'not-found', message: `${file}: not found` } : { kind: 'failed', message: error.message });
      });
      child.once('close', (code, signal) => finish({ kind: 'exited', code, signal, stdout: stdout.text(), stderr: stderr.text() }));
    });
  }
}

function killGroup(pid: number | undefined, fallback: () => void): void {
  try {
    if (pid === undefined) throw new Error('no pid');
    process.kill(-pid, 'SIGKILL');
  } catch {
    fallback();
  }
}

class BoundedText {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    if (this.size >= this.limit) return;
    const part = chunk.subarray(0, this.limit - this.size);
    this.chunks.push(part);
    this.size += part.length;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
