import { progressComment } from './progress-comment';

/** The chat page's own parsing of a comment (libs/ui/static/app.js, showProgressComment). */
function pageProgress(text: string): number | null {
  const fed = /(\d+)\s*(?:\/|of)\s*(\d+)/i.exec(text);
  return fed && /prefill|prompt|token/i.test(text) ? Number(fed[1]) / Math.max(1, Number(fed[2])) : null;
}

describe(progressComment.name, () => {
  it('says a queued request its position, prompt size and ETA, with no fraction the page would draw as progress', () => {
    const text = progressComment({ type: 'progress', phase: 'queued', position: 2, promptTokens: 700, fedEstimate: null, etaMs: 74_200 });
    expect(text).toBe('queued: position 2, 700 prompt tokens, first token in about 75 s');
    expect(pageProgress(text)).toBeNull();
  });

  it('says how much of the prompt was fed as N/M, which the page draws as its prefill bar', () => {
    const text = progressComment({ type: 'progress', phase: 'prefill', position: null, promptTokens: 700, fedEstimate: 140, etaMs: 40_000 });
    expect(text).toBe('prefill: 140/700 prompt tokens fed (estimated), first token in about 40 s');
    expect(pageProgress(text)).toBeCloseTo(0.2);
  });

  it('leaves out what is not known yet', () => {
    expect(progressComment({ type: 'progress', phase: 'queued', position: null, promptTokens: null, fedEstimate: null, etaMs: null })).toBe('queued: waiting');
    expect(progressComment({ type: 'progress', phase: 'prefill', position: null, promptTokens: null, fedEstimate: null, etaMs: 10 })).toBe(
      'prefill: feeding the prompt, first token in about 1 s',
    );
  });
});
