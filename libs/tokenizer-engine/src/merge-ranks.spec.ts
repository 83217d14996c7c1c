import { Tokenizer } from '@huggingface/tokenizers';
import { readFileSync } from 'node:fs';
import { MergeRanks } from './merge-ranks';
import { QwenTokenizer } from './qwen-tokenizer';
import { resolveTokenizerFiles } from './tokenizer-files';

jest.setTimeout(60000);

describe(MergeRanks.name, () => {
  it('finds every rank it was given and nothing else', () => {
    const ranks = new MergeRanks(1000);
    for (let i = 0; i < 1000; i++) ranks.set(i, i * 7 + 1, i);
    for (let i = 0; i < 1000; i++) expect(ranks.get(i, i * 7 + 1)).toBe(i);
    expect(ranks.get(1, 1)).toBeUndefined();
    expect(ranks.get(999, 0)).toBeUndefined();
  });

  it('leaves the Qwen2.5 tokenizer giving exactly the ids of the unmodified library', () => {
    const files = resolveTokenizerFiles(null);
    const reference = new Tokenizer(JSON.parse(readFileSync(files.tokenizerJson, 'utf8')), JSON.parse(readFileSync(files.tokenizerConfigJson, 'utf8')));
    const compact = QwenTokenizer.load(files);
    // the string-keyed Map is gone: the ranks below come from MergeRanks
    expect((compact as unknown as { engine: { model: { bpe_ranks: unknown } } }).engine.model.bpe_ranks).toBeNull();
    const texts = [
      'Hello world, how are you doing today?',
      '好的！这是表情：👨‍👩‍👧‍👦🏳️‍🌈😀，完成。',
      'function fitPrompt(messages: ChatMessage[]): number[] {\n  return messages.flatMap((m) => encode(m.content));\n}',
      'Ünïcödé ñ façade — “quotes” … 1234567890 3.14159 0x1F600',
      '   leading spaces\t\ttabs\r\nand CRLF\n\n\nnewlines',
      'Привет, мир! مرحبا بالعالم こんにちは世界 안녕하세요',
      'antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis',
      '<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n',
    ];
    for (const text of texts) {
      expect(compact.encode(text)).toEqual(reference.encode(text, { add_special_tokens: false }).ids);
    }
  });
});
