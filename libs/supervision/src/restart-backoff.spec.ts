import { ExponentialBackoff } from './restart-backoff';

describe(ExponentialBackoff.name, () => {
  it('starts at the initial delay, doubles, and stops at the cap', () => {
    const backoff = new ExponentialBackoff(500, 3000);
    expect([1, 2, 3, 4, 5].map(() => backoff.next())).toEqual([500, 1000, 2000, 3000, 3000]);
    expect(backoff.attempts).toBe(5);
  });

  it('starts over after reset()', () => {
    const backoff = new ExponentialBackoff(100, 10000);
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });

  it('never overflows after many attempts', () => {
    const backoff = new ExponentialBackoff(500, 30000);
    for (let i = 0; i < 100; i++) backoff.next();
    expect(backoff.next()).toBe(30000);
    expect(backoff.delayFor(10_000)).toBe(30000);
  });

  it('gives the delay of a numbered attempt without moving (attempts below 1 count as the first)', () => {
    const backoff = new ExponentialBackoff(1000, 30000);
    expect([0, 1, 2, 3, 6].map((n) => backoff.delayFor(n))).toEqual([1000, 1000, 2000, 4000, 30000]);
    expect(backoff.attempts).toBe(0);
  });
});
