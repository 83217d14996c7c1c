import { truncateUtf8, UPSTREAM_LINE_MAX_BYTES, upstreamPromptLine } from './upstream-prompt-line';

describe(upstreamPromptLine.name, () => {
  it('uses only the last user message', () => {
    const line = upstreamPromptLine({
      messages: [
        { role: 'system', content: 'secret system' },
        { role: 'user', content: 'old question' },
        { role: 'assistant', content: 'old answer' },
        { role: 'user', content: 'new question' },
        { role: 'assistant', content: 'prefill' },
      ],
    });
    expect(line).toBe('new question');
  });

  it('turns line breaks into spaces so the runner sees one line, one turn', () => {
    expect(upstreamPromptLine({ prompt: 'a\nb\r\nc\td\u2028e\u2029f\u0085g' })).toBe('a b c d e f g');
  });

  it('removes every control character a terminal would act on', () => {
    const line = upstreamPromptLine({ prompt: 'x\u0003\u0004\u0015\u0017\u0016\u001a\u001c\u007f\u001b[31m\u009by' });
    expect(line).toBe('x[31my');
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });

  it('is never exactly "q" and never empty', () => {
    expect(upstreamPromptLine({ prompt: 'q' })).toBe('q ');
    expect(upstreamPromptLine({ prompt: ' q\n' })).not.toBe('q');
    expect(upstreamPromptLine({ prompt: '' })).toBe('?');
    expect(upstreamPromptLine({ prompt: '\n\u0003\t ' })).toBe('?');
    expect(upstreamPromptLine({ messages: [] })).toBe('?');
  });

  it('stays below the 4095-byte terminal line limit without splitting a character', () => {
    const line = upstreamPromptLine({ prompt: '你好😀'.repeat(2000) });
    const bytes = Buffer.byteLength(line, 'utf8');
    expect(bytes).toBeLessThanOrEqual(UPSTREAM_LINE_MAX_BYTES);
    expect(bytes).toBeGreaterThan(UPSTREAM_LINE_MAX_BYTES - 4);
    expect(line).not.toContain('\ufffd');
    expect(Buffer.from(line, 'utf8').toString('utf8')).toBe(line);
  });
});

describe(truncateUtf8.name, () => {
  it('keeps text that fits and cuts at character boundaries', () => {
    expect(truncateUtf8('abc', 3)).toBe('abc');
    expect(truncateUtf8('a你b', 3)).toBe('a');
    expect(truncateUtf8('a你b', 4)).toBe('a你');
    expect(truncateUtf8('😀x', 3)).toBe('');
  });
});
