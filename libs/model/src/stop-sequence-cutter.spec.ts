import { charByChar, randomPieces, seededRandom } from '../../../test/fixtures/chunking';
import { StopSequenceCutter } from './stop-sequence-cutter';

/** Pushes the pieces, then flushes if no stop was hit; returns the text the client would get. */
function run(stops: string[], pieces: string[]): { text: string; stopped: boolean } {
  const cutter = new StopSequenceCutter(stops);
  let text = '';
  let stopped = false;
  for (const piece of pieces) {
    const result = cutter.push(piece);
    text += result.emit;
    if (stopped && result.emit) throw new Error('text emitted after the stop');
    stopped = stopped || result.stopped;
  }
  if (!stopped) {
    text += cutter.flush();
    stopped = cutter.stopped;
  }
  return { text, stopped };
}

/** Reference: the text before the earliest occurrence of any stop. */
function expectedCut(stops: string[], text: string): { text: string; stopped: boolean } {
  let best = -1;
  for (const stop of stops.filter((s) => s)) {
    const at = text.indexOf(stop);
    if (at >= 0 && (best < 0 || at < best)) best = at;
  }
  return best < 0 ? { text, stopped: false } : { text: text.slice(0, best), stopped: true };
}

function allTwoAndThreeWaySplits(text: string): string[][] {
  const out: string[][] = [];
  for (let a = 0; a <= text.length; a++) {
    out.push([text.slice(0, a), text.slice(a)]);
    for (let b = a; b <= text.length; b++) out.push([text.slice(0, a), text.slice(a, b), text.slice(b)]);
  }
  return out;
}

describe(StopSequenceCutter.name, () => {
  it('passes text through unchanged without stop strings', () => {
    const cutter = new StopSequenceCutter([]);
    expect(cutter.push('Hello')).toEqual({ emit: 'Hello', stopped: false });
    expect(cutter.push(' world\n')).toEqual({ emit: ' world\n', stopped: false });
    expect(cutter.flush()).toBe('');
  });

  it('ignores empty stop strings', () => {
    const cutter = new StopSequenceCutter(['', '']);
    expect(cutter.push('abc')).toEqual({ emit: 'abc', stopped: false });
    expect(new StopSequenceCutter(['', 'b']).push('abc')).toEqual({ emit: 'a', stopped: true });
  });

  it('emits what cannot start a stop string at once and holds back a possible prefix', () => {
    const cutter = new StopSequenceCutter(['STOP']);
    expect(cutter.push('Hello S')).toEqual({ emit: 'Hello ', stopped: false });
    expect(cutter.push('T')).toEqual({ emit: '', stopped: false });
    expect(cutter.push('x')).toEqual({ emit: 'STx', stopped: false });
    expect(cutter.push(' ST')).toEqual({ emit: ' ', stopped: false });
    expect(cutter.push('OP and more')).toEqual({ emit: '', stopped: true });
    expect(cutter.stopped).toBe(true);
    expect(cutter.push('later')).toEqual({ emit: '', stopped: true });
    expect(cutter.flush()).toBe('');
  });

  it('returns a held prefix at the end of the text', () => {
    const cutter = new StopSequenceCutter(['</answer>']);
    expect(cutter.push('done </ans')).toEqual({ emit: 'done ', stopped: false });
    expect(cutter.flush()).toBe('</ans');
    expect(cutter.stopped).toBe(false);
  });

  it('cuts at the stop when it arrives whole inside one push', () => {
    expect(new StopSequenceCutter(['\n\n']).push('para one\n\npara two')).toEqual({ emit: 'para one', stopped: true });
  });

  it('finds a stop split across pieces at every position', () => {
    const stops = ['<|stop|>', 'Observation:'];
    const text = 'Thought: call it <|sto <|stop and then <|stop|> never shown';
    for (const pieces of allTwoAndThreeWaySplits(text)) {
      expect(run(stops, pieces)).toEqual({ text: 'Thought: call it <|sto <|stop and then ', stopped: true });
    }
    expect(run(stops, charByChar(text)).text).toBe('Thought: call it <|sto <|stop and then ');
  });

  it('stops at the earliest of several stop strings', () => {
    expect(run(['world', 'lo'], ['hello world'])).toMatchObject({ text: 'hel', stopped: true });
    expect(run(['lo', 'world'], charByChar('hello world'))).toMatchObject({ text: 'hel', stopped: true });
  });

  it('waits for a longer stop that started earlier before acting on a shorter one inside it', () => {
    // "bc" is complete at index 1, but "abcd" may start at index 0.
    const cutter = new StopSequenceCutter(['abcd', 'bc']);
    expect(cutter.push('xabc')).toEqual({ emit: 'x', stopped: false });
    expect(cutter.push('d')).toEqual({ emit: '', stopped: true });
    const other = new StopSequenceCutter(['abcd', 'bc']);
    expect(other.push('xabc')).toEqual({ emit: 'x', stopped: false });
    expect(other.push('e')).toEqual({ emit: 'a', stopped: true });
    const ending = new StopSequenceCutter(['abcd', 'bc']);
    expect(ending.push('xabc')).toEqual({ emit: 'x', stopped: false });
    expect(ending.flush()).toBe('a');
    expect(ending.stopped).toBe(true);
  });

  it('handles stops that are prefixes of each other and self-overlapping stops', () => {
    expect(run(['ab', 'abc'], charByChar('xxabc'))).toMatchObject({ text: 'xx', stopped: true });
    expect(run(['aab'], charByChar('aaaab!'))).toMatchObject({ text: 'aa', stopped: true });
    expect(run(['aab'], charByChar('aaaa'))).toMatchObject({ text: 'aaaa', stopped: false });
  });

  it('keeps Chinese, emoji and newlines intact', () => {
    expect(run(['。'], charByChar('你好😀\n世界。再见'))).toMatchObject({ text: '你好😀\n世界', stopped: true });
    expect(run(['😀'], ['ab\uD83D', '\uDE00cd'])).toMatchObject({ text: 'ab', stopped: true });
  });

  it('agrees with a plain search on random texts, stops and cuts (fixed seed)', () => {
    const random = seededRandom(7);
    const alphabet = 'ab\nc';
    const word = (max: number) => Array.from({ length: 1 + Math.floor(random() * max) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    for (let round = 0; round < 2000; round++) {
      const stops = Array.from({ length: Math.floor(random() * 5) }, () => word(4));
      const text = word(30);
      const pieces = randomPieces(text, random, 1 + Math.floor(random() * 6));
      const got = run(stops, pieces);
      const want = expectedCut(stops, text);
      if (got.text !== want.text || got.stopped !== want.stopped) {
        throw new Error(`stops ${JSON.stringify(stops)} text ${JSON.stringify(text)}: got ${JSON.stringify(got)} want ${JSON.stringify(want)}`);
      }
    }
  });
});
