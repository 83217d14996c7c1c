import { BehaviorSubject, Subject } from 'rxjs';
import { ManualClock } from '../../../test/doubles/manual-clock';
import { waitFor } from './wait-for';

describe(waitFor.name, () => {
  let clock: ManualClock;
  beforeEach(() => (clock = new ManualClock()));

  it('resolves true at once when the current state already satisfies the predicate', async () => {
    await expect(waitFor(new BehaviorSubject('ready'), (s) => s === 'ready', 1000, clock)).resolves.toBe(true);
    expect(clock.pendingDelays()).toEqual([]);
  });

  it('resolves true on the first later state that satisfies it, and drops its timer', async () => {
    const state$ = new BehaviorSubject('loading');
    const result = waitFor(state$, (s) => s === 'ready', 1000, clock);
    state$.next('busy');
    state$.next('ready');
    await expect(result).resolves.toBe(true);
    expect(clock.pendingDelays()).toEqual([]);
  });

  it('resolves false when the timeout passes first', async () => {
    const state$ = new BehaviorSubject('loading');
    let settled: boolean | null = null;
    void waitFor(state$, (s) => s === 'ready', 1000, clock).then((v) => (settled = v));
    await clock.advance(999);
    expect(settled).toBeNull();
    await clock.advance(1);
    expect(settled).toBe(false);
  });

  it('resolves false when the state stream completes without the state', async () => {
    const state$ = new Subject<string>();
    const result = waitFor(state$, (s) => s === 'ready', 1000, clock);
    state$.complete();
    await expect(result).resolves.toBe(false);
  });
});
