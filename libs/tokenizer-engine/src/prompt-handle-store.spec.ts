import type { Clock } from '@qwen/supervision';
import { PROMPT_HANDLE_PATTERN, PromptHandleStore, type PromptEntry } from './prompt-handle-store';

class FakeClock implements Pick<Clock, 'now'> {
  constructor(public time = 1_000_000) {}
  now(): number {
    return this.time;
  }
}

const entry = (n: number): PromptEntry => ({ ids: [n, n + 1], promptTokens: 2, maxTokens: 10, contextWindow: 1024 });

describe(PromptHandleStore.name, () => {
  let clock: FakeClock;
  let store: PromptHandleStore;
  beforeEach(() => {
    clock = new FakeClock();
    store = new PromptHandleStore({ ttlMs: 60_000, clock });
  });

  it('issues qh- + 22 base64url characters, a single line that is never the runner command q', () => {
    const { handle, expiresAt } = store.register(entry(1));
    expect(handle).toMatch(PROMPT_HANDLE_PATTERN);
    expect(handle).toHaveLength(25);
    expect(handle).not.toMatch(/[\r\n\s]/);
    expect(expiresAt).toBe(clock.time + 60_000);
  });

  it('is single use: the first take returns the entry, the second nothing', () => {
    const { handle } = store.register(entry(7));
    expect(store.take(handle)).toMatchObject({ handle, ids: [7, 8], maxTokens: 10 });
    expect(store.take(handle)).toBeUndefined();
  });

  it('forgets a handle once its TTL has passed', () => {
    const first = store.register(entry(1));
    const second = store.register(entry(2));
    clock.time += 59_999;
    expect(store.take(first.handle)?.ids).toEqual([1, 2]);
    clock.time += 1;
    expect(store.take(second.handle)).toBeUndefined();
  });

  it('purges expired handles on registration', () => {
    store.register(entry(1));
    clock.time += 60_000;
    store.register(entry(2));
    expect(store.size).toBe(1);
  });

  it('answers undefined for unknown handles', () => {
    store.register(entry(1));
    expect(store.take('qh-AAAAAAAAAAAAAAAAAAAAAA')).toBeUndefined();
    expect(store.take('hello')).toBeUndefined();
    expect(store.take('')).toBeUndefined();
  });

  it('issues unique handles', () => {
    const handles = new Set(Array.from({ length: 200 }, (_, i) => store.register(entry(i)).handle));
    expect(handles.size).toBe(200);
  });

  it('draws again when the random source repeats itself', () => {
    const draws = [Buffer.alloc(16, 1), Buffer.alloc(16, 1), Buffer.alloc(16, 2)];
    const repeating = new PromptHandleStore({ ttlMs: 1000, clock, random: () => draws.shift() as Buffer });
    const a = repeating.register(entry(1)).handle;
    const b = repeating.register(entry(2)).handle;
    expect(a).not.toBe(b);
    expect(repeating.take(b)?.ids).toEqual([2, 3]);
  });

  it('stays bounded, evicting the oldest handle first', () => {
    const small = new PromptHandleStore({ ttlMs: 60_000, clock, maxEntries: 2 });
    const a = small.register(entry(1)).handle;
    const b = small.register(entry(2)).handle;
    const c = small.register(entry(3)).handle;
    expect(small.size).toBe(2);
    expect(small.take(a)).toBeUndefined();
    expect(small.take(b)?.ids).toEqual([2, 3]);
    expect(small.take(c)?.ids).toEqual([3, 4]);
  });
});
