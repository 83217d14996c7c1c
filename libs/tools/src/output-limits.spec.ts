import { clampOutputLimit, outputLimitHeaderValue, requestedOllamaLimit, requestedOpenAiLimit } from './output-limits';

describe(clampOutputLimit.name, () => {
  it('lowers a limit larger than the room and says so (issue: 4096 with a 30-token prompt)', () => {
    const limit = clampOutputLimit(4096, 30, 1024);
    expect(limit).toEqual({ maxTokens: 994, requested: 4096, clamped: true, room: 994 });
    expect(outputLimitHeaderValue(limit)).toBe('4096->994');
  });

  it('keeps a limit that fits, including exactly the room', () => {
    expect(clampOutputLimit(994, 30, 1024)).toEqual({ maxTokens: 994, requested: 994, clamped: false, room: 994 });
    expect(clampOutputLimit(3, 30, 1024)).toEqual({ maxTokens: 3, requested: 3, clamped: false, room: 994 });
    expect(outputLimitHeaderValue(clampOutputLimit(3, 30, 1024))).toBeNull();
  });

  it('gives the whole room when nothing was requested, and never a negative limit', () => {
    expect(clampOutputLimit(null, 1000, 1024)).toEqual({ maxTokens: 24, requested: null, clamped: false, room: 24 });
    expect(clampOutputLimit(10, 1030, 1024)).toEqual({ maxTokens: 0, requested: 10, clamped: true, room: -6 });
  });
});

describe('requested limits', () => {
  it('prefers max_completion_tokens over max_tokens', () => {
    expect(requestedOpenAiLimit({ max_tokens: 10, max_completion_tokens: 20 })).toBe(20);
    expect(requestedOpenAiLimit({ max_tokens: 10, max_completion_tokens: null })).toBe(10);
    expect(requestedOpenAiLimit({})).toBeNull();
  });
  it("reads Ollama's -1 and -2 as no limit", () => {
    expect(requestedOllamaLimit(-1)).toBeNull();
    expect(requestedOllamaLimit(-2)).toBeNull();
    expect(requestedOllamaLimit(undefined)).toBeNull();
    expect(requestedOllamaLimit(128)).toBe(128);
  });
});
