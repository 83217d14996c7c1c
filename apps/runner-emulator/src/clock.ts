/** Time, behind a class so the generation loop can be tested without waiting. */
export interface Clock {
  nowMs(): number;
  /** Waits `ms` (0 still yields to the event loop, so signals and I/O are handled between tokens). */
  sleep(ms: number): Promise<void>;
}

export class SystemClock implements Clock {
  nowMs(): number {
    return performance.now();
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)));
  }
}
