import { Injectable } from '@nestjs/common';

export type TokenizerTimer = ReturnType<typeof setTimeout>;

/** The clock and timers of the tokenizer supervision; unit tests swap in a fake. */
@Injectable()
export class TokenizerClock {
  now(): number {
    return Date.now();
  }

  /** A timer that never keeps the process alive on its own. */
  setTimeout(callback: () => void, ms: number): TokenizerTimer {
    const timer = setTimeout(callback, ms);
    timer.unref?.();
    return timer;
  }

  clearTimeout(timer: TokenizerTimer | null | undefined): void {
    if (timer) clearTimeout(timer);
  }
}
