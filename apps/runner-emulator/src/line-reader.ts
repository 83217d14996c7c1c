/**
 * `std::getline(std::cin, line)` over the runner's stdin: one line per call, lines typed while the
 * runner is busy wait in the buffer. After end of file every call returns null (the real one then
 * gets an empty line forever); a last unterminated line is still delivered first.
 */
export interface LineSource {
  nextLine(): Promise<string | null>;
}

export class StreamLineReader implements LineSource {
  private buffer = Buffer.alloc(0);
  private readonly lines: string[] = [];
  private ended = false;
  private waiter: (() => void) | null = null;

  constructor(stream: NodeJS.ReadableStream) {
    stream.on('data', (chunk: Buffer | string) => {
      this.buffer = Buffer.concat([this.buffer, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
      let newline: number;
      while ((newline = this.buffer.indexOf(0x0a)) >= 0) {
        this.lines.push(this.buffer.subarray(0, newline).toString('utf8'));
        this.buffer = this.buffer.subarray(newline + 1);
      }
      this.wake();
    });
    const end = () => {
      if (this.ended) return;
      this.ended = true;
      if (this.buffer.length > 0) this.lines.push(this.buffer.toString('utf8'));
      this.buffer = Buffer.alloc(0);
      this.wake();
    };
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', end);
  }

  async nextLine(): Promise<string | null> {
    while (this.lines.length === 0 && !this.ended) {
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
    return this.lines.shift() ?? null;
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }
}
