import { TextScrubber } from './text-scrubber';

describe(TextScrubber.name, () => {
  const scrubber = new TextScrubber();

  it('keeps newline, tab and ordinary text (including non-Latin and emoji)', () => {
    expect(scrubber.scrub('a\tb\nc 你好 😀 é ÿ')).toBe('a\tb\nc 你好 😀 é ÿ');
  });

  it('drops every C0 control except newline and tab, DEL and the C1 controls', () => {
    let all = '';
    for (let code = 0; code <= 0xa0; code++) all += String.fromCharCode(code);
    const printableAscii = Array.from({ length: 0x7e - 0x20 + 1 }, (_, i) => String.fromCharCode(0x20 + i)).join('');
    expect(scrubber.scrub(all)).toBe('\t\n' + printableAscii + '\u00a0');
  });

  it('removes terminal escapes, carriage returns, ^C and ^D', () => {
    expect(scrubber.scrub('\u001b[31mred\u001b[0m\r\n\u0003\u0004q\u009b2J')).toBe('[31mred[0m\nq2J');
  });
});
