import { QwenTokenizer } from './qwen-tokenizer';
import { TokenByteTable } from './token-byte-table';
import { resolveTokenizerFiles } from './tokenizer-files';

jest.setTimeout(30000);

describe(TokenByteTable.name, () => {
  let tokenizer: QwenTokenizer;
  let table: TokenByteTable;

  beforeAll(() => {
    tokenizer = QwenTokenizer.load(resolveTokenizerFiles(null));
    table = new TokenByteTable(tokenizer.byteTable().tables); // as the worker posts it
  });

  it('holds the bytes of every id, specials included, in about a megabyte', () => {
    expect(tokenizer.idCount).toBe(151_665);
    expect(table.tables.offsets.length).toBe(151_666);
    expect(table.tables.bytes.length).toBeLessThan(2_000_000);
    for (const id of [0, 9707, 100_000, 151_643, 151_644, 151_645, 151_664]) expect(table.tokenBytes(id)).toEqual(tokenizer.tokenBytes(id));
    expect(table.tokenBytes(151_665)).toEqual(new Uint8Array(0));
    expect(table.tokenBytes(-1)).toEqual(new Uint8Array(0));
  });

  it('decodes exactly like the tokenizer: special tokens kept, unknown ids dropped, broken UTF-8 as U+FFFD', () => {
    const texts = ['Hello, world!', '好的！这是表情：👨‍👩‍👧‍👦🏳️‍🌈😀，完成。', '<|im_start|>user\nhi<|im_end|>\n', 'tabs\tand  spaces\r\n'];
    for (const text of texts) {
      const ids = tokenizer.encode(text);
      expect(table.decode(ids)).toBe(tokenizer.decode(ids));
      expect(table.decode(ids)).toBe(text);
      // every cut, so split multi-byte characters are compared too
      for (let cut = 1; cut < ids.length; cut++) expect(table.decode(ids.slice(cut))).toBe(tokenizer.decode(ids.slice(cut)));
    }
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % 151_700;
    for (let k = 0; k < 200; k++) {
      const ids = Array.from({ length: 1 + (k % 9) }, random);
      expect(table.decode(ids)).toBe(tokenizer.decode(ids));
    }
    expect(table.decode([9707, 999_999, 1879])).toBe(tokenizer.decode([9707, 999_999, 1879]));
  });
});
