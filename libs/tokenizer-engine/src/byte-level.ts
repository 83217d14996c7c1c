/**
 * GPT-2 byte-level BPE alphabet: every byte 0–255 is written as one printable Unicode character in the
 * vocabulary. Qwen2 uses it, so a token's bytes are its vocabulary string mapped back through this table.
 */
function buildByteToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const table: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = printable.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++);
  }
  return table;
}

export const BYTE_TO_UNICODE: readonly string[] = buildByteToUnicode();

const UNICODE_TO_BYTE = new Map<number, number>(BYTE_TO_UNICODE.map((ch, byte) => [ch.charCodeAt(0), byte]));

/** Bytes of a byte-level vocabulary string, or null when it holds a character outside the alphabet. */
export function byteLevelToBytes(token: string): Uint8Array | null {
  const bytes = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const byte = UNICODE_TO_BYTE.get(token.charCodeAt(i));
    if (byte === undefined) return null;
    bytes[i] = byte;
  }
  return bytes;
}
