import { Injectable } from '@nestjs/common';

export type TimerHandle = ReturnType<typeof setTimeout>;

/**
 * The one clock and timer source of every supervised thing (runner, tokenizer process, queue).
 * Timers never keep the process alive on their own. Unit tests swap in a manual clock.
 */
@Injectable()
export class Clock {
  now(): number {
    return Date.now();
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const timer = setTimeout(callback, ms);
    timer.unref?.();
    return timer;
  }

  clearTimeout(timer: TimerHandle | null | undefined): void {
    if (timer) clearTimeout(timer);
  }
}
