import type { Readable } from 'node:stream';

const NEWLINE = 0x0a;

/**
 * Reads a stream of JSON documents, one per line (JSON.stringify never writes a raw newline, and a
 * newline byte is never part of a UTF-8 character): `onValue` gets each parsed document, `onBadLine`
 * the error of a line that is not JSON.
 */
export function readJsonLines(stream: Readable, onValue: (value: unknown) => void, onBadLine: (error: Error) => void): void {
  let parts: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => {
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      parts.push(chunk.subarray(start, end));
      const line = Buffer.concat(parts).toString('utf8');
      parts = [];
      start = end + 1;
      if (line.length === 0) continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        onBadLine(error as Error);
        continue;
      }
      onValue(value);
    }
    if (start < chunk.length) parts.push(chunk.subarray(start));
  });
}
