import type { TokenBytesSource } from './streaming-decoder';

/** The table in plain typed arrays: what a worker thread hands to the thread that answers the runner. */
export interface TokenByteTableData {
  /** Bytes of id i are bytes[offsets[i] .. offsets[i + 1]); length = ids + 1. */
  offsets: Uint32Array;
  bytes: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/**
 * Id → UTF-8 bytes of every token of the vocabulary, in two typed arrays (about 1 MB for Qwen2.5,
 * against ~100 MB for the whole tokenizer): all that /decode needs. The thread that answers the
 * runner holds this, not the tokenizer. `decode` equals QwenTokenizer.decode (special tokens kept,
 * unknown ids contribute nothing, a broken UTF-8 sequence becomes U+FFFD).
 */
export class TokenByteTable implements TokenBytesSource {
  private readonly utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

  constructor(private readonly data: TokenByteTableData) {}

  /** Builds the table of `ids` ids (0 … ids − 1) from a tokenizer's own bytes per id. */
  static build(source: TokenBytesSource, ids: number): TokenByteTable {
    const parts: Uint8Array[] = new Array(ids);
    const offsets = new Uint32Array(ids + 1);
    for (let id = 0; id < ids; id++) {
      parts[id] = source.tokenBytes(id);
      offsets[id + 1] = offsets[id] + parts[id].length;
    }
    const bytes = new Uint8Array(offsets[ids]);
    for (let id = 0; id < ids; id++) bytes.set(parts[id], offsets[id]);
    return new TokenByteTable({ offsets, bytes });
  }

  /** The arrays (to post to another thread; structured clone copies them once). */
  get tables(): TokenByteTableData {
    return this.data;
  }

  tokenBytes(id: number): Uint8Array {
    const { offsets, bytes } = this.data;
    if (!Number.isInteger(id) || id < 0 || id >= offsets.length - 1) return EMPTY;
    return bytes.subarray(offsets[id], offsets[id + 1]);
  }

  decode(ids: readonly number[]): string {
    let size = 0;
    for (const id of ids) size += this.tokenBytes(id).length;
    const out = new Uint8Array(size);
    let at = 0;
    for (const id of ids) {
      const bytes = this.tokenBytes(id);
      out.set(bytes, at);
      at += bytes.length;
    }
    return this.utf8.decode(out);
  }
}
