import { ExponentialBackoff } from './backoff';

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
  });
});
