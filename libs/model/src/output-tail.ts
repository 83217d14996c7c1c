/** Keeps the last N lines of the runner's output, without colour codes, for operators. */
export class OutputTail {
  private readonly lines: string[] = [];
  private partial = '';

  constructor(private readonly limit = 50) {}

  push(chunk: string): void {
    const text = this.partial + chunk;
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    for (const part of parts) this.add(part);
    if (this.partial.length > 4096) {
      this.add(this.partial);
      this.partial = '';
    }
  }

  snapshot(): string[] {
    const pending = clean(this.partial);
    return pending ? [...this.lines, pending].slice(-this.limit) : [...this.lines];
  }

  clear(): void {
    this.lines.length = 0;
    this.partial = '';
  }

  private add(raw: string): void {
    const line = clean(raw);
    if (!line) return;
    this.lines.push(line);
    if (this.lines.length > this.limit) this.lines.shift();
  }
}

/** Drops ANSI colour codes and keeps what a progress bar redraw shows last. */
function clean(raw: string): string {
  const noAnsi = raw.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
  const lastRedraw = noAnsi.split('\r').filter((s) => s.trim().length > 0).pop() ?? '';
  return lastRedraw.trimEnd();
}
