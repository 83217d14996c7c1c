/**
 * The restart back-off policy: `initialMs` before the first restart, then doubling, capped at
 * `maxMs`. Either stateful (`next()` moves one step, `reset()` starts over after a healthy period)
 * or by attempt number (`delayFor(n)`, for callers that count their failures themselves).
 */
export class ExponentialBackoff {
  private attempt = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
  ) {}

  /** The delay before restart number `attempt` (1 = the first); attempts below 1 count as 1. */
  delayFor(attempt: number): number {
    const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
    return Math.min(this.maxMs, this.initialMs * 2 ** exponent);
  }

  /** The delay before the next attempt; each call moves one step further. */
  next(): number {
    this.attempt += 1;
    return this.delayFor(this.attempt);
  }

  /** How many delays were handed out since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  reset(): void {
    this.attempt = 0;
  }
}
