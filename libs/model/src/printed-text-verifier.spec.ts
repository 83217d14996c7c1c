import { MAX_UNVERIFIED_CHARS, PrintedTextVerifier } from './printed-text-verifier';

describe(PrintedTextVerifier.name, () => {
  it('passes terminal text the tokenizer produced, whichever channel comes first', () => {
    const verifier = new PrintedTextVerifier();
    expect(verifier.produced('Hello')).toEqual({ model: '', stray: '' });
    expect(verifier.printed('Hel')).toEqual({ model: 'Hel', stray: '' });
    expect(verifier.printed('lo, w')).toEqual({ model: 'lo', stray: '' });
    expect(verifier.produced(', world')).toEqual({ model: ', w', stray: '' });
    expect(verifier.printed('orld')).toEqual({ model: 'orld', stray: '' });
    expect(verifier.finish()).toBe('');
  });

  it('takes a differing terminal line, to its end, as runner output and resumes after it', () => {
    const verifier = new PrintedTextVerifier();
    verifier.produced('one two');
    expect(verifier.printed('one[2025-11-09 08:46:00.030][10994][C][device][print][18]: allocated')).toEqual({
      model: 'one',
      stray: '[2025-11-09 08:46:00.030][10994][C][device][print][18]: allocated',
    });
    expect(verifier.printed(' device memories: 226\n two')).toEqual({ model: ' two', stray: ' device memories: 226\n' });
  });

  it('holds text the tokenizer has not produced, and gives it up as runner output at the end of the turn', () => {
    const verifier = new PrintedTextVerifier();
    expect(verifier.printed('device 1 is dead\n')).toEqual({ model: '', stray: '' });
    expect(verifier.finish()).toBe('device 1 is dead\n');
  });

  it('does not hold more than MAX_UNVERIFIED_CHARS', () => {
    const verifier = new PrintedTextVerifier();
    const flood = 'x'.repeat(MAX_UNVERIFIED_CHARS + 1);
    expect(verifier.printed(flood)).toEqual({ model: '', stray: flood });
  });
});
