import { QwenTokenizer, resolveTokenizerFiles, type StoredPrompt } from '@qwen/tokenizer-engine';
import { TurnTracker } from './turn-tracker';

const EOS = 151645;

/** One byte per id (ids < 256) so tests control every byte; other ids are special-token-like text. */
const byteVocab = {
  tokenBytes: (id: number) => (id < 256 ? Uint8Array.of(id) : Buffer.from(id === EOS ? '<|im_end|>' : `<${id}>`)),
  decode: (ids: readonly number[]) => Buffer.concat(ids.map((id) => Buffer.from(byteVocab.tokenBytes(id)))).toString('utf8'),
};

const prompt = (handle: string, maxTokens = 100, promptTokens = 10, contextWindow = 1024): StoredPrompt => ({
  handle,
  ids: [],
  promptTokens,
  maxTokens,
  contextWindow,
  expiresAt: Number.MAX_SAFE_INTEGER,
});

const A = 65;
const B = 66;
const C = 67;

describe(TurnTracker.name, () => {
  it('streams chunks, recognises the final call carrying all ids and reports exactly', () => {
    const tracker = new TurnTracker(byteVocab);
    tracker.startTurn(prompt('qh-1'));
    expect(tracker.decode([A, B, C])).toMatchObject({ kind: 'chunk', text: 'ABC', progress: { handle: 'qh-1', generated: 3, limitReached: false } });
    expect(tracker.decode([A, A, A])).toMatchObject({ kind: 'chunk', text: 'AAA' });
    expect(tracker.decode([B, EOS])).toMatchObject({ kind: 'chunk', text: 'B<|im_end|>' });
    expect(tracker.decode([A, B, C, A, A, A, B, EOS])).toMatchObject({ kind: 'final', text: byteVocab.decode([A, B, C, A, A, A, B, EOS]), progress: { generated: 8 } });
    expect(tracker.report('qh-1')).toEqual({
      handle: 'qh-1',
      promptTokens: 10,
      generatedIds: [A, B, C, A, A, A, B, EOS],
      decodeCalls: 4,
      limitReached: false,
      printedText: 'ABCAAAB<|im_end|>',
    });
    // after the final call nothing disturbs the stream any more
    expect(tracker.decode([A])).toMatchObject({ kind: 'stateless', text: 'A' });
    expect(tracker.report('qh-1')?.decodeCalls).toBe(4);
  });

  it('repairs a character split across chunks and keeps the final call silent', () => {
    const tracker = new TurnTracker(byteVocab);
    tracker.startTurn(prompt('qh-2'));
    const bytes = [...Buffer.from('😀你', 'utf8')]; // 7 bytes
    const texts = [tracker.decode(bytes.slice(0, 3)).text, tracker.decode(bytes.slice(3, 6)).text, tracker.decode(bytes.slice(6)).text];
    expect(texts).toEqual(['', '😀', '你']);
    expect(tracker.decode(bytes)).toMatchObject({ kind: 'final', text: byteVocab.decode(bytes) });
    expect(tracker.report('qh-2')?.printedText).toBe('😀你');
  });

  it('takes a call of more than 3 ids that starts with the chunks as final even without an end signal (Ctrl-C, unprinted leftover)', () => {
    const tracker = new TurnTracker(byteVocab);
    tracker.startTurn(prompt('qh-3'));
    tracker.decode([A, B, C]);
    tracker.decode([C, B, A]);
    expect(tracker.decode([A, B, C, C, B, A, A])).toMatchObject({ kind: 'final', text: byteVocab.decode([A, B, C, C, B, A, A]) });
    expect(tracker.report('qh-3')).toMatchObject({ generatedIds: [A, B, C, C, B, A, A], printedText: 'ABCCBA' });
  });

  it('ambiguous: [a,b,c] then [a,b,c] is streamed as a chunk, but reported as the final call when nothing follows', () => {
    const tracker = new TurnTracker(byteVocab);
    tracker.startTurn(prompt('qh-4'));
    tracker.decode([A, B, C]);
    expect(tracker.decode([A, B, C])).toMatchObject({ kind: 'chunk', text: 'ABC', progress: { generated: 3 } });
    expect(tracker.report('qh-4')).toMatchObject({ generatedIds: [A, B, C], printedText: 'ABC', decodeCalls: 2 });
  });

  it('ambiguous: [a,b,c] then [a,b,c] followed by more chunks was a repeated chunk', () => {
    const tracker = new TurnTracker(byteVocab);
    tracker.startTurn(prompt('qh-5'));
    tracker.decode([A, B, C]);
    tracker.decode([A, B, C]);
    expect(tracker.decode([C, C, C])).toMatchObject({ kind: 'chunk', text: 'CCC', progress: { generated: 9 } });
    expect(tracker.decode([A, B, C, A, B, C, C, C, C])).toMatchObject({ kind: 'final' });
    expect(tracker.report('qh-5')).toMatchObject({ generatedIds: [A, B, C, A, B, C, C, C, C], printedText: 'ABCABCCCC' });
  });

  it('after the eos leftover (a short chunk) the next call is final even when it equals the chunks', () => {
    const tracker = new TurnTracker(byteVocab);
    tracker.startTurn(prompt('qh-6'));
    expect(tracker.decode([A])).toMatchObject({ kind: 'chunk', text: 'A' });
    expect(tracker.decode([A])).toMatchObject({ kind: 'final', text: byteVocab.decode([A]) });
    expect(tracker.report('qh-6')).toMatchObject({ generatedIds: [A], printedText: 'A', decodeCalls: 2 });
  });

  it('a chunk holding eos ends the generation: the identical next call is final', () => {
    const tracker = new TurnTracker(byteVocab);
    tracker.startTurn(prompt('qh-7'));
    tracker.decode([A, B, EOS]);
    expect(tracker.decode([A, B, EOS])).toMatchObject({ kind: 'final', text: byteVocab.decode([A, B, EOS]) });
    expect(tracker.report('qh-7')?.generatedIds).toEqual([A, B, EOS]);
  });

  it('a full window ends the generation: the identical next call is final', () => {
    const tracker = new TurnTracker(byteVocab);
    tracker.startTurn(prompt('qh-8', 100, 1021, 1024));
    tracker.decode([A, B, C]);
    expect(tracker.decode([A, B, C])).toMatchObject({ kind: 'final' });
  });

  it('an empty call is the final call of a generation stopped before anything was printed', () => {
    const tracker = new TurnTracker(byteVocab);
    tracker.startTurn(prompt('qh-9'));
    expect(tracker.decode([])).toMatchObject({ kind: 'final', text: byteVocab.decode([]) });
    expect(tracker.report('qh-9')).toMatchObject({ generatedIds: [], printedText: '', decodeCalls: 1 });
  });

  it('a first short call alone (stopped after 1-2 tokens) is reported as the final call', () => {
    const tracker = new TurnTracker(byteVocab);
    tracker.startTurn(prompt('qh-10'));
    tracker.decode([A, B]);
    expect(tracker.report('qh-10')).toMatchObject({ generatedIds: [A, B], printedText: '' });
  });

  it('cuts the printed text at maxTokens and says when the limit is reached', () => {
    const tracker = new TurnTracker(byteVocab);
    tracker.startTurn(prompt('qh-11', 4));
    expect(tracker.decode([A, B, C])).toMatchObject({ text: 'ABC', progress: { generated: 3, limitReached: false } });
    expect(tracker.decode([B, C, A])).toMatchObject({ text: 'B', progress: { generated: 6, limitReached: true } });
    expect(tracker.decode([C, C, C])).toMatchObject({ text: '', progress: { generated: 9, limitReached: true } });
    expect(tracker.decode([A, B, C, B, C, A, C, C, C, A])).toMatchObject({ kind: 'final', text: byteVocab.decode([A, B, C, B, C, A, C, C, C, A]) });
    expect(tracker.report('qh-11')).toMatchObject({ printedText: 'ABCB', limitReached: true, generatedIds: [A, B, C, B, C, A, C, C, C, A] });
  });

  it('decodes calls that continue nothing statelessly, without touching the turn', () => {
    const tracker = new TurnTracker(byteVocab);
    expect(tracker.decode([A, 0x1b, B])).toEqual({ kind: 'stateless', text: 'AB' });
    tracker.startTurn(prompt('qh-12'));
    tracker.decode([A, B, C]);
    expect(tracker.decode([C, C, C, C])).toMatchObject({ kind: 'stateless', text: 'CCCC' });
    expect(tracker.report('qh-12')).toMatchObject({ generatedIds: [A, B, C], decodeCalls: 1 });
  });

  it('answers calls outside any turn statelessly, without progress or end', () => {
    const tracker = new TurnTracker(byteVocab);
    expect(tracker.decode([A, B, C])).toEqual({ kind: 'stateless', text: 'ABC' });
    expect(tracker.decode([A, B, C, A, B, C])).toEqual({ kind: 'stateless', text: 'ABCABC' });
  });

  it('reports the end of a turn at the final call, and a possible end at an ambiguous one', () => {
    const tracker = new TurnTracker(byteVocab);
    tracker.startTurn(prompt('qh-end'));
    expect(tracker.decode([A, B, C]).ended).toBeUndefined();
    expect(tracker.decode([A, B, C]).ended).toEqual({ handle: 'qh-end', generatedIds: 3 });
    tracker.startTurn(prompt('qh-end2'));
    tracker.decode([A, B, C]);
    tracker.decode([A, B]);
    expect(tracker.decode([A, B, C, A, B])).toMatchObject({ kind: 'final', text: 'ABCAB', ended: { handle: 'qh-end2', generatedIds: 5 } });
  });

  it('keeps only the last turns and answers undefined for unknown handles', () => {
    const tracker = new TurnTracker(byteVocab, { history: 2 });
    tracker.startTurn(prompt('qh-a'));
    tracker.startTurn(prompt('qh-b'));
    tracker.startTurn(prompt('qh-c'));
    expect(tracker.report('qh-a')).toBeUndefined();
    expect(tracker.report('qh-b')).toBeDefined();
    expect(tracker.report('qh-c')).toBeDefined();
    expect(tracker.report('qh-zzz')).toBeUndefined();
  });

  it('with the real tokenizer: 3-id chunks of Chinese + emoji print exactly the full decode', () => {
    const tokenizer = QwenTokenizer.load(resolveTokenizerFiles(null));
    const tracker = new TurnTracker(tokenizer);
    const ids = [...tokenizer.encode('好的！这是表情：👨‍👩‍👧‍👦🏳️‍🌈😀，完成。'), EOS];
    tracker.startTurn(prompt('qh-real'));
    let printed = '';
    for (let i = 0; i < ids.length; i += 3) printed += tracker.decode(ids.slice(i, i + 3)).text;
    expect(tracker.decode(ids).kind).toBe('final');
    expect(printed).toBe(tokenizer.decode(ids));
    expect(tracker.report('qh-real')).toMatchObject({ generatedIds: ids, printedText: printed });
  });
});
