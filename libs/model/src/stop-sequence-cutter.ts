export interface StopCutResult {
  /** Text that can no longer be part of a stop string: safe to send to the client now. */
  emit: string;
  /** True once a stop string was found: nothing more will ever be emitted. */
  stopped: boolean;
}

/**
 * Cuts a text stream right before the first occurrence of any stop string (the runner has no
 * stop strings of its own).
 *
 * - Text is emitted as soon as it cannot be (part of) a stop string; a possible prefix is held.
 * - "First" means the earliest START position in the whole text: with stops `abcd` and `bc`, the
 *   text `abcd` stops before `a`, so a complete `bc` is not acted on while an earlier `abc…` could
 *   still become `abcd`.
 * - Empty stop strings are ignored; no stop strings = passthrough.
 * - Cost per push is O(text + held) × stops; the held part is shorter than the longest stop.
 */
export class StopSequenceCutter {
  private readonly stops: readonly string[];
  private readonly longest: number;
  private held = '';
  private done = false;

  constructor(stops: readonly string[] = []) {
    this.stops = [...new Set(stops.filter((s) => s.length > 0))];
    this.longest = this.stops.reduce((max, s) => Math.max(max, s.length), 0);
  }

  get stopped(): boolean {
    return this.done;
  }

  push(text: string): StopCutResult {
    if (this.done) return { emit: '', stopped: true };
    if (this.stops.length === 0) return { emit: text, stopped: false };
    const all = this.held + text;
    const full = this.firstFullMatch(all);
    const partial = this.firstOpenPrefix(all);
    if (full >= 0 && (partial < 0 || full <= partial)) {
      this.done = true;
      this.held = '';
      return { emit: all.slice(0, full), stopped: true };
    }
    const keepFrom = partial >= 0 ? partial : all.length;
    this.held = all.slice(keepFrom);
    return { emit: all.slice(0, keepFrom), stopped: false };
  }

  /**
   * The end of the text: returns what was held back (cut before a stop string it contains — the
   * held text can still hold a complete stop behind an unfinished longer one).
   */
  flush(): string {
    if (this.done) return '';
    const all = this.held;
    this.held = '';
    const full = this.firstFullMatch(all);
    if (full >= 0) {
      this.done = true;
      return all.slice(0, full);
    }
    return all;
  }

  /** Earliest index where a stop string occurs completely, or -1. */
  private firstFullMatch(text: string): number {
    let best = -1;
    for (const stop of this.stops) {
      const at = text.indexOf(stop);
      if (at >= 0 && (best < 0 || at < best)) best = at;
    }
    return best;
  }

  /** Earliest index from which the rest of `text` is a proper prefix of some stop string, or -1. */
  private firstOpenPrefix(text: string): number {
    for (let at = Math.max(0, text.length - this.longest + 1); at < text.length; at++) {
      const rest = text.length - at;
      for (const stop of this.stops) {
        if (stop.length > rest && stop.startsWith(text.slice(at))) return at;
      }
    }
    return -1;
  }
}
