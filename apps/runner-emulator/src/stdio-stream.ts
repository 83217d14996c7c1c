/**
 * C stdio buffering of the runner's stdout: line-buffered on a terminal, block-buffered (4096 bytes)
 * on a pipe or file, explicit `fflush` where the runner calls it. What is still buffered when the
 * process crashes is lost, exactly like the real one.
 */
export interface ByteSink {
  write(chunk: string, done: () => void): void;
}

export class StdioStream {
  private buffer = '';
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly sink: ByteSink,
    private readonly lineBuffered: boolean,
    private readonly blockSize = 4096,
  ) {}

  /** printf / fputs. */
  printf(text: string): void {
    this.buffer += text;
    if (this.lineBuffered) {
      const lastNewline = this.buffer.lastIndexOf('\n');
      if (lastNewline >= 0) this.emit(lastNewline + 1);
    } else if (Buffer.byteLength(this.buffer) >= this.blockSize) {
      this.emit(this.buffer.length);
    }
  }

  fflush(): void {
    if (this.buffer.length > 0) this.emit(this.buffer.length);
  }

  /** Resolves when everything handed to the sink so far has been written (before exit or a crash). */
  drained(): Promise<void> {
    return this.pending;
  }

  private emit(upTo: number): void {
    const chunk = this.buffer.slice(0, upTo);
    this.buffer = this.buffer.slice(upTo);
    const previous = this.pending;
    const written = new Promise<void>((resolve) => this.sink.write(chunk, resolve));
    this.pending = previous.then(() => written);
  }
}
