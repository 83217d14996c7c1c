import { printfFixed2 } from './log-formatter';

/**
 * The runner's load progress bar (ax-llm `cqdm`), redrawn in place:
 * `ESC[1;30;33m\r%3d%% | <█ × ⌈p·size⌉><space × ⌈size − p·size⌉> | %3d / %3d [%2.2fs<%2.2fs, %2.2f count/s] ESC[1;30;32m<text>ESC[0m`.
 * Times are seconds since the bar was created (total), average per update × total (eta), 1 / average (rate).
 */
export class ProgressBar {
  private count = 0;
  private totalSeconds = 0;
  private lastMs: number;

  constructor(
    private readonly total: number,
    private readonly size: number,
    nowMs: number,
  ) {
    this.lastMs = nowMs;
  }

  /** The bytes of update `index` (0-based), taken at `nowMs`. */
  update(index: number, text: string, nowMs: number): string {
    this.count++;
    this.totalSeconds += (nowMs - this.lastMs) / 1000;
    const average = this.totalSeconds / this.count;
    this.lastMs = nowMs;
    const fraction = (index + 1) / this.total;
    let bar = '';
    for (let i = 0; i < fraction * this.size; i++) bar += '█';
    for (let i = 0; i < this.size - fraction * this.size; i++) bar += ' ';
    const pct = String(Math.trunc(fraction * 100)).padStart(3);
    const counts = `${String(index + 1).padStart(3)} / ${String(this.total).padStart(3)}`;
    const times = `[${printfFixed2(this.totalSeconds)}s<${printfFixed2(average * this.total)}s, ${printfFixed2(1 / average)} count/s]`;
    return `\x1b[1;30;33m\r${pct}% | ${bar} | ${counts} ${times} \x1b[1;30;32m${text}\x1b[0m`;
  }
}
