import { textScrubber, TextScrubber } from './text-scrubber';

/** What the streaming decoder needs from the tokenizer. */
export interface TokenBytesSource {
  tokenBytes(id: number): Uint8Array;
}

export interface StreamingDecoderOptions {
  /** Tokens past this count contribute nothing (null/undefined = no limit). */
  maxTokens?: number | null;
  scrubber?: TextScrubber;
}

/**
 * Byte-level decoder of ONE generation. `push(ids)` appends the ids' bytes and returns the longest
 * complete UTF-8 prefix not yet emitted (scrubbed); an incomplete trailing sequence is held back for
 * the next chunk. `flush()` ends the generation (a still-incomplete tail becomes U+FFFD, like a full decode).
 * So the concatenation of everything returned equals scrub(decode(all ids)), whatever the chunking.
 * Work per call is proportional to the chunk, never to the whole generation.
 */
export class StreamingDecoder {
  private readonly utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  private readonly maxTokens: number | null;
  private readonly scrubber: TextScrubber;
  private accepted = 0;
  private seen = 0;
  private flushed = false;

  constructor(
    private readonly tokenizer: TokenBytesSource,
    options: StreamingDecoderOptions = {},
  ) {
    this.maxTokens = options.maxTokens ?? null;
    this.scrubber = options.scrubber ?? textScrubber;
  }

  /** Ids pushed so far (including those past the limit). */
  get generated(): number {
    return this.seen;
  }

  /** True once the generated count reached maxTokens. */
  get limitReached(): boolean {
    return this.maxTokens !== null && this.seen >= this.maxTokens;
  }

  push(ids: readonly number[]): string {
    if (this.flushed) return '';
    this.seen += ids.length;
    const room = this.maxTokens === null ? ids.length : Math.max(0, Math.min(ids.length, this.maxTokens - this.accepted));
    if (room === 0) return '';
    this.accepted += room;
    let text = '';
    for (let i = 0; i < room; i++) text += this.utf8.decode(this.tokenizer.tokenBytes(ids[i]), { stream: true });
    return this.scrubber.scrub(text);
  }

  /** Emits what is still held back (an incomplete sequence becomes U+FFFD); later pushes return ''. */
  flush(): string {
    if (this.flushed) return '';
    this.flushed = true;
    return this.scrubber.scrub(this.utf8.decode());
  }
}
