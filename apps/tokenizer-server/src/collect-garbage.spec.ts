import { IDLE_COLLECT_MS, IdleGarbageCollection } from './collect-garbage';

describe(IdleGarbageCollection.name, () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('collects once the thread has been idle for IDLE_COLLECT_MS after its last work, and not while work is under way', () => {
    let busy = false;
    const collect = jest.fn();
    const idle = new IdleGarbageCollection(() => busy, collect);
    idle.workDone();
    jest.advanceTimersByTime(IDLE_COLLECT_MS - 1);
    idle.workDone(); // more work: the wait starts over
    jest.advanceTimersByTime(IDLE_COLLECT_MS - 1);
    expect(collect).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(collect).toHaveBeenCalledTimes(1);
    busy = true;
    idle.workDone();
    jest.advanceTimersByTime(IDLE_COLLECT_MS);
    expect(collect).toHaveBeenCalledTimes(1);
  });
});
