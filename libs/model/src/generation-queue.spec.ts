import { Clock } from '@qwen/supervision';
import { GenerationQueue, GenerationQueueOptions } from './generation-queue';
import { QueueFullError, QueueTimeoutError } from './model.contract';

interface Timeout {
  item: string;
  error: QueueTimeoutError;
}

describe(GenerationQueue.name, () => {
  let clock: Clock;
  let timeouts: Timeout[];

  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
    // The real clock over timers faked by jest: getTimerCount() sees every timer the queue holds.
    clock = new Clock();
    timeouts = [];
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  function queue(options: Partial<GenerationQueueOptions<string>> = {}): GenerationQueue<string> {
    return new GenerationQueue<string>({
      maxLength: 3,
      maxWaitMs: 10_000,
      clock,
      onTimeout: (item, error) => timeouts.push({ item, error }),
      ...options,
    });
  }

  function takeAll(q: GenerationQueue<string>): string[] {
    const out: string[] = [];
    for (let item = q.next(); item !== undefined; item = q.next()) {
      out.push(item);
      q.complete();
    }
    return out;
  }

  it('hands items out strictly in arrival order', () => {
    const q = queue({ maxLength: 100 });
    const names = Array.from({ length: 50 }, (_, i) => `r${i}`);
    for (const name of names) q.enqueue(name);
    expect(q.length).toBe(50);
    expect(q.peek()).toBe('r0');
    expect(takeAll(q)).toEqual(names);
    expect(q.length).toBe(0);
    expect(q.next()).toBeUndefined();
  });

  it('lists the waiting items oldest first with when each arrived', () => {
    const q = queue();
    q.enqueue('a');
    jest.advanceTimersByTime(250);
    q.enqueue('b');
    expect(q.waitingItems()).toEqual([
      { item: 'a', enqueuedAt: 1_000_000 },
      { item: 'b', enqueuedAt: 1_000_250 },
    ]);
    q.next();
    expect(q.waitingItems().map((w) => w.item)).toEqual(['b']);
  });

  it('counts the item in flight from next() to complete()', () => {
    const q = queue();
    q.enqueue('a');
    q.enqueue('b');
    expect(q.inFlight).toBe(0);
    expect(q.next()).toBe('a');
    expect(q.inFlight).toBe(1);
    expect(q.length).toBe(1);
    q.complete();
    expect(q.inFlight).toBe(0);
  });

  it('refuses with QueueFullError once maxLength requests wait behind the one in flight', () => {
    const q = queue({ maxLength: 2, retryAfterSeconds: 7 });
    q.enqueue('running');
    expect(q.next()).toBe('running');
    q.enqueue('w1');
    q.enqueue('w2');
    let error: unknown;
    try {
      q.enqueue('w3');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(QueueFullError);
    expect((error as QueueFullError).retryAfterSeconds).toBe(7);
    expect((error as QueueFullError).message).toContain('2 waiting');
    expect(q.length).toBe(2);
    expect(jest.getTimerCount()).toBe(2); // the refused one left no timer
    q.next();
    expect(() => q.enqueue('w3')).not.toThrow();
  });

  it('lets one request in when nothing is in flight even with maxLength 0', () => {
    const q = queue({ maxLength: 0 });
    q.enqueue('only');
    expect(() => q.enqueue('second')).toThrow(QueueFullError);
    expect(q.next()).toBe('only');
    expect(() => q.enqueue('while busy')).toThrow(QueueFullError);
    q.complete();
    expect(() => q.enqueue('after')).not.toThrow();
  });

  it('times out a request that waited longer than maxWaitMs, and only that one', () => {
    const q = queue({ maxWaitMs: 10_000 });
    q.enqueue('old');
    jest.advanceTimersByTime(4_000);
    const young = q.enqueue('young');
    jest.advanceTimersByTime(5_999);
    expect(timeouts).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(timeouts.map((t) => t.item)).toEqual(['old']);
    expect(timeouts[0].error).toBeInstanceOf(QueueTimeoutError);
    expect(timeouts[0].error.message).toContain('10 s');
    expect(q.length).toBe(1);
    expect(q.isWaiting(young)).toBe(true);
    jest.advanceTimersByTime(4_000);
    expect(timeouts.map((t) => t.item)).toEqual(['old', 'young']);
    expect(q.isWaiting(young)).toBe(false);
    expect(q.cancel(young)).toBe(false);
    expect(q.next()).toBeUndefined();
  });

  it('does not time out a request once it was taken', () => {
    const q = queue({ maxWaitMs: 1_000 });
    q.enqueue('a');
    expect(q.next()).toBe('a');
    jest.advanceTimersByTime(5_000);
    expect(timeouts).toEqual([]);
  });

  it.each([
    ['head', 0, ['b', 'c']],
    ['middle', 1, ['a', 'c']],
    ['tail', 2, ['a', 'b']],
  ])('cancels the %s without side effects', (_where, index, rest) => {
    const q = queue();
    const tickets = ['a', 'b', 'c'].map((item) => q.enqueue(item));
    expect(q.position(tickets[index])).toBe(index);
    expect(q.cancel(tickets[index])).toBe(true);
    expect(q.cancel(tickets[index])).toBe(false);
    expect(q.position(tickets[index])).toBe(-1);
    expect(q.length).toBe(2);
    expect(q.inFlight).toBe(0);
    expect(jest.getTimerCount()).toBe(2);
    jest.advanceTimersByTime(60_000);
    expect(timeouts.map((t) => t.item)).toEqual(rest); // the cancelled one never times out
  });

  it('cancel() of an item already taken returns false and changes nothing', () => {
    const q = queue();
    const ticket = q.enqueue('a');
    q.enqueue('b');
    q.next();
    expect(q.cancel(ticket)).toBe(false);
    expect(q.length).toBe(1);
    expect(q.inFlight).toBe(1);
  });

  it('drain() returns every waiting item in order and clears their timers', () => {
    const q = queue();
    ['a', 'b', 'c'].forEach((item) => q.enqueue(item));
    q.next();
    expect(q.drain()).toEqual(['b', 'c']);
    expect(q.length).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('leaves no timer behind once every item has left the queue', () => {
    const q = queue();
    const tickets = ['a', 'b', 'c'].map((item) => q.enqueue(item));
    expect(jest.getTimerCount()).toBe(3);
    q.cancel(tickets[1]);
    expect(takeAll(q)).toEqual(['a', 'c']);
    expect(jest.getTimerCount()).toBe(0);
    q.enqueue('d');
    jest.advanceTimersByTime(10_000);
    expect(timeouts.map((t) => t.item)).toEqual(['d']);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('starts no timer without a wait limit', () => {
    const q = queue({ maxWaitMs: Number.POSITIVE_INFINITY });
    q.enqueue('a');
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(1e9);
    expect(q.length).toBe(1);
  });

  it('keeps the order across timeouts and cancellations mixed with new arrivals', () => {
    const q = queue({ maxLength: 10, maxWaitMs: 5_000 });
    q.enqueue('a');
    jest.advanceTimersByTime(3_000);
    const b = q.enqueue('b');
    q.enqueue('c');
    jest.advanceTimersByTime(2_000); // "a" times out
    q.cancel(b);
    q.enqueue('d');
    expect(takeAll(q)).toEqual(['c', 'd']);
    expect(timeouts.map((t) => t.item)).toEqual(['a']);
  });

  it('rejects a negative or fractional maxLength', () => {
    expect(() => queue({ maxLength: -1 })).toThrow(RangeError);
    expect(() => queue({ maxLength: 1.5 })).toThrow(RangeError);
  });
});
