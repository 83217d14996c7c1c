import { Injectable } from '@nestjs/common';

export type TimerHandle = ReturnType<typeof setTimeout>;

/** The clock and timers ModelService uses; a test can swap it. */
@Injectable()
export class ModelClock {
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
