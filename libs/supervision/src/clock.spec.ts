import { Clock } from './clock';

describe(Clock.name, () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000 }));
  afterEach(() => jest.useRealTimers());

  it('tells the time and runs a timer once due; a cleared timer never runs', () => {
    const clock = new Clock();
    const ran: string[] = [];
    clock.setTimeout(() => ran.push('a'), 100);
    const cleared = clock.setTimeout(() => ran.push('b'), 100);
    clock.clearTimeout(cleared);
    clock.clearTimeout(null);
    jest.advanceTimersByTime(100);
    expect(ran).toEqual(['a']);
    expect(clock.now()).toBe(1_100);
  });

  it('does not keep the process alive with its timers', () => {
    const timer = new Clock().setTimeout(() => undefined, 100);
    expect(timer.hasRef()).toBe(false);
  });

});
