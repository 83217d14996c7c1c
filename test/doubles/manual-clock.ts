import { Clock, TimerHandle } from '@qwen/supervision';

/** Lets queued promise callbacks run (several rounds: chains of awaits). */
export async function flushPromises(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/** A Clock whose timers run only when the test advances it. */
export class ManualClock extends Clock {
  private time = 0;
  private timers: Array<{ at: number; callback: () => void; id: number }> = [];
  private nextId = 1;

  override now(): number {
    return this.time;
  }

  override setTimeout(callback: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.push({ at: this.time + ms, callback, id });
    return id as unknown as TimerHandle;
  }

  override clearTimeout(timer: TimerHandle | null | undefined): void {
    this.timers = this.timers.filter((t) => t.id !== (timer as unknown as number));
  }

  /** Runs every timer due within `ms`, in order, letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const until = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = due.at;
      due.callback();
      await flushPromises();
    }
    this.time = until;
  }

  /** The delays of the timers still pending, from now. */
  pendingDelays(): number[] {
    return this.timers.map((t) => t.at - this.time);
  }
}
