/** Terminal text held while waiting for the tokenizer's word on it, at most (a runaway runner must not eat memory). */
export const MAX_UNVERIFIED_CHARS = 65536;

/** What one step of the comparison decided. */
export interface VerifiedText {
  /** Text our tokenizer produced and the runner printed: model text, in order. */
  model: string;
  /** Text the runner printed that our tokenizer did not produce: runner output (runtime lines, records…). */
  stray: string;
}

/**
 * Only text our tokenizer produced is model text. The tokenizer process reports the text it answered
 * to every /decode chunk of a turn (`printed-text`); the terminal shows that text, possibly with
 * other output in between (the AXCL runtime's `[…][pid][W][device manager]…` and `[C]` lines when
 * the NPU dies, anything else). This compares the two streams:
 *
 * - terminal text equal to what the tokenizer produced next is model text;
 * - at the first character that differs, the terminal line from there to its end (`\n` included)
 *   is runner output — runtime output comes in whole lines — and the comparison resumes after it;
 * - terminal text the tokenizer has not (yet) produced is held: its report may arrive just after the
 *   text (two channels). When the turn ends, `finish()` declares whatever is still held runner output.
 *
 * Held terminal text beyond MAX_UNVERIFIED_CHARS is declared runner output at once.
 */
export class PrintedTextVerifier {
  /** Produced by the tokenizer, not yet seen on the terminal. */
  private expected = '';
  /** Shown by the terminal, not yet matched. */
  private unverified = '';
  /** Inside a line of runner output (until its `\n`). */
  private inStrayLine = false;

  /** The tokenizer produced `text` (the runner prints it next). */
  produced(text: string): VerifiedText {
    this.expected += text;
    return this.compare();
  }

  /** The terminal showed `text` (as the framer gives turn text). */
  printed(text: string): VerifiedText {
    this.unverified += text;
    return this.compare();
  }

  /** The turn is over: what the terminal showed and the tokenizer never produced is runner output. */
  finish(): string {
    const stray = this.unverified;
    this.unverified = '';
    this.expected = '';
    this.inStrayLine = false;
    return stray;
  }

  private compare(): VerifiedText {
    let model = '';
    let stray = '';
    while (this.unverified.length > 0) {
      if (this.inStrayLine) {
        const end = this.unverified.indexOf('\n');
        const cut = end < 0 ? this.unverified.length : end + 1;
        stray += this.unverified.slice(0, cut);
        this.unverified = this.unverified.slice(cut);
        if (end >= 0) this.inStrayLine = false;
        continue;
      }
      if (this.expected.length === 0) break;
      let same = 0;
      const limit = Math.min(this.expected.length, this.unverified.length);
      while (same < limit && this.expected[same] === this.unverified[same]) same++;
      if (same === 0) {
        this.inStrayLine = true;
        continue;
      }
      model += this.unverified.slice(0, same);
      this.unverified = this.unverified.slice(same);
      this.expected = this.expected.slice(same);
    }
    if (this.unverified.length > MAX_UNVERIFIED_CHARS) {
      stray += this.unverified;
      this.unverified = '';
    }
    return { model, stray };
  }
}
