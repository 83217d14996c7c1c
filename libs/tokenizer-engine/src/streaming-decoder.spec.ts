import { QwenTokenizer } from './qwen-tokenizer';
import { StreamingDecoder } from './streaming-decoder';
import { TextScrubber } from './text-scrubber';
import { resolveTokenizerFiles } from './tokenizer-files';

/** Feeds `ids` in chunks whose boundaries are `cuts` and returns everything emitted, flush included. */
function stream(decoder: StreamingDecoder, ids: number[], cuts: number[]): string[] {
  const out: string[] = [];
  let from = 0;
  for (const cut of [...cuts, ids.length]) {
    out.push(decoder.push(ids.slice(from, cut)));
    from = cut;
  }
  out.push(decoder.flush());
  return out;
}

/** A fake vocabulary: one byte per id, so chunks can cut a character between any two bytes. */
const byteVocab = { tokenBytes: (id: number) => Uint8Array.of(id) };

describe(StreamingDecoder.name, () => {
  let tokenizer: QwenTokenizer;
  const scrubber = new TextScrubber();
  beforeAll(() => {
    tokenizer = QwenTokenizer.load(resolveTokenizerFiles(null));
  });

  it.each([
    ['Chinese', '你好，世界！今天天气很好，我们去公园散步吧。'],
    ['emoji with ZWJ sequences and 4-byte characters', '家庭👨‍👩‍👧‍👦和旗🏳️‍🌈，笑😀！𝄞 𠀋 done'],
  ])('never breaks a character, whatever 3-token chunks the real ids are cut into (%s)', (_name, text) => {
    const ids = tokenizer.encode(text);
    const expected = scrubber.scrub(tokenizer.decode(ids));
    for (let offset = 0; offset < 3; offset++) {
      const cuts: number[] = [];
      for (let cut = offset || 3; cut < ids.length; cut += 3) cuts.push(cut);
      const pieces = stream(new StreamingDecoder(tokenizer), ids, cuts);
      expect(pieces.join('')).toBe(expected);
      for (const piece of pieces) expect(piece).not.toContain('\ufffd');
    }
  });

  it.each([
    ['Chinese', '中文字符'],
    ['emoji', '👨‍👩‍👧 🏳️‍🌈 😀'],
    ['4-byte', '𝄞𠀋'],
  ])('splits at EVERY byte position across 3-byte chunks without emitting U+FFFD (%s)', (_name, text) => {
    const bytes = [...Buffer.from(text, 'utf8')];
    for (let first = 0; first <= bytes.length; first++) {
      const cuts: number[] = [first];
      for (let cut = first + 3; cut < bytes.length; cut += 3) cuts.push(cut);
      const pieces = stream(new StreamingDecoder(byteVocab), bytes, cuts);
      expect(pieces.join('')).toBe(text);
      expect(pieces.join('|')).not.toContain('\ufffd');
    }
  });

  it('holds back an incomplete character and emits it with the next chunk', () => {
    const decoder = new StreamingDecoder(byteVocab);
    const bytes = [...Buffer.from('a你b', 'utf8')]; // 61 e4 bd a0 62
    expect(decoder.push(bytes.slice(0, 2))).toBe('a');
    expect(decoder.push(bytes.slice(2, 3))).toBe('');
    expect(decoder.push(bytes.slice(3))).toBe('你b');
    expect(decoder.flush()).toBe('');
  });

  it('flush turns a still-incomplete tail into U+FFFD, like a full decode would', () => {
    const decoder = new StreamingDecoder(byteVocab);
    expect(decoder.push([0x41, 0xe4, 0xbd])).toBe('A');
    expect(decoder.flush()).toBe('\ufffd');
    expect(decoder.push([0x41])).toBe('');
  });

  it('scrubs control characters out of the emitted text', () => {
    const decoder = new StreamingDecoder(byteVocab);
    expect(decoder.push([...Buffer.from('\u001b[2Jhi\r\n\u0003', 'utf8')])).toBe('[2Jhi\n');
    expect(decoder.push([0xc2])).toBe('');
    expect(decoder.push([0x9b, 0x41])).toBe('A'); // U+009B (C1 CSI) split across chunks, then dropped
  });

  it('cuts at maxTokens: tokens past the limit contribute nothing', () => {
    const ids = tokenizer.encode('one two three four five six seven');
    const decoder = new StreamingDecoder(tokenizer, { maxTokens: 4 });
    const out = decoder.push(ids.slice(0, 3)) + decoder.push(ids.slice(3, 6)) + decoder.push(ids.slice(6)) + decoder.flush();
    expect(out).toBe(tokenizer.decode(ids.slice(0, 4)));
    expect(out).toBe('one two three four');
    expect(decoder.generated).toBe(ids.length);
    expect(decoder.limitReached).toBe(true);
  });

  it('reports limitReached only once the generated count reaches maxTokens', () => {
    const decoder = new StreamingDecoder(byteVocab, { maxTokens: 5 });
    decoder.push([65, 66, 67]);
    expect(decoder.limitReached).toBe(false);
    decoder.push([68, 69]);
    expect(decoder.limitReached).toBe(true);
    expect(new StreamingDecoder(byteVocab).limitReached).toBe(false);
  });
});
