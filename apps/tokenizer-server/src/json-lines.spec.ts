import { PassThrough } from 'node:stream';
import { readJsonLines } from './json-lines';

describe(readJsonLines.name, () => {
  it('gives each line\'s document, across chunks that split lines and characters, and reports a line that is not JSON', () => {
    const stream = new PassThrough();
    const values: unknown[] = [];
    const bad: string[] = [];
    readJsonLines(stream, (value) => values.push(value), (error) => bad.push(error.name));
    const text = `${JSON.stringify({ a: 'line\none 中文' })}\n${JSON.stringify([1, 2])}\nnot json\n\n${JSON.stringify('last')}\n`;
    const bytes = Buffer.from(text);
    const cut = bytes.indexOf(Buffer.from('中')) + 1; // inside a character
    stream.write(bytes.subarray(0, cut));
    stream.write(bytes.subarray(cut, cut + 20));
    stream.write(bytes.subarray(cut + 20));
    expect(values).toEqual([{ a: 'line\none 中文' }, [1, 2], 'last']);
    expect(bad).toEqual(['SyntaxError']);
  });
});
