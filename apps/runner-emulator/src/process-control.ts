import type { StdioStream } from './stdio-stream';

/** How the emulated process ends or stalls (a class, so the loop can be tested without dying). */
export interface ProcessControl {
  /** Dies abruptly like the real runner's segmentation fault / abort: no footer, no exit status. */
  crash(signal?: 'SIGSEGV' | 'SIGABRT'): Promise<never>;
  /** Stops producing output forever (ignores input and Ctrl-C) until killed. */
  hang(): Promise<never>;
  /** Normal end: stdio is flushed, then the process exits with `code`. */
  exit(code: number): Promise<never>;
}

export class NodeProcessControl implements ProcessControl {
  constructor(private readonly out: StdioStream) {}

  async crash(signal: 'SIGSEGV' | 'SIGABRT' = 'SIGSEGV'): Promise<never> {
    // What was already flushed reaches the terminal; what is still in the stdio buffer is lost.
    await this.out.drained();
    process.kill(process.pid, signal);
    // The default action ends the process; this is only a fallback should a handler swallow it.
    setTimeout(() => process.exit(signal === 'SIGSEGV' ? 139 : 134), 200);
    return new Promise<never>(() => undefined);
  }

  hang(): Promise<never> {
    setInterval(() => undefined, 1 << 30); // keeps the process alive, doing nothing
    return new Promise<never>(() => undefined);
  }

  async exit(code: number): Promise<never> {
    this.out.fflush();
    await this.out.drained();
    process.exit(code);
  }
}
