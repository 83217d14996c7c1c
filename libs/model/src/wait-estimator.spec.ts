import { ASSUMED_ANSWER_TOKENS, WaitEstimator } from './wait-estimator';

describe(WaitEstimator.name, () => {
  let rate: number;
  let estimator: WaitEstimator;

  beforeEach(() => {
    rate = 10;
    estimator = new WaitEstimator(() => rate);
  });

  it('times a waiting turn as its prompt plus the typical answer (at most its limit) at the current rate', () => {
    expect(estimator.turnMs(50, null)).toBe((50 + ASSUMED_ANSWER_TOKENS) * 100);
    expect(estimator.turnMs(50, 20)).toBe(70 * 100);
    rate = 20; // the runner's footer measured it
    expect(estimator.turnMs(50, 20)).toBe(70 * 50);
  });

  it('learns the typical answer from finished turns', () => {
    estimator.recordAnswer(400);
    expect(estimator.turnMs(0, null)).toBe(Math.round(0.3 * 400 + 0.7 * ASSUMED_ANSWER_TOKENS) * 100);
  });

  it('estimates the prompt fed from the elapsed time, never all of it before text comes', () => {
    const facts = { typedAt: 1_000, generatingSince: null, promptTokens: 700, maxTokens: 300, generatedTokens: 0 };
    expect(estimator.status(facts, 21_000)).toEqual({ phase: 'prefill', promptTokens: 700, fedEstimate: 200, generatedTokens: 0, maxTokens: 300, elapsedMs: 20_000 });
    expect(estimator.status(facts, 1_000_000).fedEstimate).toBe(699);
    expect(estimator.status({ ...facts, generatingSince: 50_000, generatedTokens: 12 }, 60_000)).toMatchObject({ phase: 'generating', fedEstimate: 700 });
  });

  it('times the rest of a turn: the prompt left, then the answer left (at least one more token, at most the limit)', () => {
    const prefill = estimator.status({ typedAt: 0, generatingSince: null, promptTokens: 700, maxTokens: 300, generatedTokens: 0 }, 20_000);
    expect(estimator.remainingMs(prefill)).toBe((500 + 100) * 100);
    const long = estimator.status({ typedAt: 0, generatingSince: 1, promptTokens: 10, maxTokens: 300, generatedTokens: 150 }, 20_000);
    expect(estimator.remainingMs(long)).toBe(100); // past the typical length: one token at a time
    const atLimit = estimator.status({ typedAt: 0, generatingSince: 1, promptTokens: 10, maxTokens: 150, generatedTokens: 150 }, 20_000);
    expect(estimator.remainingMs(atLimit)).toBe(0);
  });
});
