import type { TurnReport } from '@qwen/tokenizer';
import { QWEN_EOS_ID, type StoredPrompt, StreamingDecoder, textScrubber, type TokenBytesSource } from '@qwen/tokenizer-engine';

/** The runner decodes this many generated ids per printed chunk. */
export const RUNNER_CHUNK_TOKENS = 3;

export interface TurnTrackerTokenizer extends TokenBytesSource {
  decode(ids: readonly number[]): string;
}

export interface TurnTrackerOptions {
  /** How many finished or running turns of registered handles GET /turns can still report. */
  history?: number;
  eosId?: number;
}

/** How one /decode call was understood. */
export type DecodeCallKind =
  /** A chunk of the generation in progress: its text is printed by the runner. */
  | 'chunk'
  /** The runner's closing call with all generated ids: its result is not printed. */
  | 'final'
  /** Not part of the current turn's stream (no turn, turn closed, or ids that continue nothing). */
  | 'stateless';

export interface DecodeOutcome {
  kind: DecodeCallKind;
  text: string;
  /** Set when the call belongs to a registered handle's turn. */
  progress?: { handle: string; generated: number; limitReached: boolean };
  /** Set when the call is (or may be, see the rule) the runner's final call of a registered handle's turn. */
  ended?: { handle: string; generatedIds: number };
}

interface Turn {
  handle: string | null;
  promptTokens: number;
  contextWindow: number | null;
  maxTokens: number | null;
  decoder: StreamingDecoder;
  /** Ids of the chunk calls, in order (what the runner printed). */
  chunkIds: number[];
  /** The generation has shown its end: a short (eos leftover) chunk, an eos id, or a full window. */
  ended: boolean;
  /** Ids of the final call, once recognised. */
  finalIds: number[] | null;
  /** The last chunk call could also have been the final call (see the rule in TurnTracker). */
  lastCallCouldBeFinal: { ids: number[]; printedBefore: number } | null;
  decodeCalls: number;
  printed: string[];
}

/**
 * Per-turn state of the runner's /decode calls. The runner calls /decode with every 3 generated ids
 * (a shorter leftover only at eos), then ONCE more with ALL generated ids; that final result is not printed.
 *
 * The final-call rule. Let S be the ids of this turn's chunk calls so far. A call with ids I is
 * "final-compatible" when I starts with S and |I| ≥ |S|. It is taken as the FINAL call at once when it is
 * final-compatible and (|I| > 3 — no chunk is longer than 3 — or |I| = 0, or the generation has shown its end:
 * a chunk shorter than 3, a chunk holding eos, or prompt + |S| ≥ the window). The final call is answered
 * with its text like any /decode (the runner does not print it) and closes the turn; later calls are stateless.
 * A call of ≤ 3 ids that is final-compatible without that evidence (e.g. S = [a,b,c] and I = [a,b,c]: a
 * repeated chunk, or the final call of a 3-token answer) is decoded as a CHUNK — if it really was the final
 * call the runner does not print it, so the terminal is never disturbed — and remembered: since every turn
 * ends with a final call, when that call is still the last one of the turn at report time it is reported
 * as the final (generatedIds = its ids, printedText = the text before it). Its `tokens` progress does not
 * count its ids (if it was a chunk, the next call counts them), but it reports a possible end of the turn
 * (`ended`), superseded by the real final call if the turn goes on.
 * A call that is not final-compatible and longer than 3 ids continues nothing: stateless decode.
 */
export class TurnTracker {
  private current: Turn | null = null;
  private readonly turns = new Map<string, Turn>();
  private readonly history: number;
  private readonly eosId: number;

  constructor(
    private readonly tokenizer: TurnTrackerTokenizer,
    options: TurnTrackerOptions = {},
  ) {
    this.history = options.history ?? 16;
    this.eosId = options.eosId ?? QWEN_EOS_ID;
  }

  /** A registered handle arrived at /encode: its turn becomes current. */
  startTurn(prompt: StoredPrompt): void {
    const turn = this.newTurn(prompt.handle, prompt.promptTokens, prompt.contextWindow, prompt.maxTokens);
    this.turns.delete(prompt.handle);
    this.turns.set(prompt.handle, turn);
    while (this.turns.size > this.history) this.turns.delete(this.turns.keys().next().value as string);
    this.current = turn;
  }

  /** A turn is open: a /decode now may be one of its calls (outside one, every call is answered statelessly). */
  get turnOpen(): boolean {
    return this.current !== null && this.current.finalIds === null;
  }

  decode(ids: readonly number[]): DecodeOutcome {
    const turn = this.current;
    if (!turn || turn.finalIds) return this.stateless(ids);
    const finalCompatible = ids.length >= turn.chunkIds.length && startsWith(ids, turn.chunkIds);
    if (!finalCompatible && (turn.ended || ids.length > RUNNER_CHUNK_TOKENS)) return this.stateless(ids);
    turn.decodeCalls++;
    if (finalCompatible && (ids.length > RUNNER_CHUNK_TOKENS || ids.length === 0 || this.hasEnded(turn))) {
      turn.finalIds = [...ids];
      turn.lastCallCouldBeFinal = null;
      return { kind: 'final', text: this.stateless(ids).text, progress: this.progress(turn, ids.length), ended: this.ended(turn, ids.length) };
    }
    // a first call of 3 ids cannot be final: with nothing printed yet the runner holds at most 2
    const couldBeFinal = finalCompatible && (turn.chunkIds.length > 0 || ids.length < RUNNER_CHUNK_TOKENS);
    turn.lastCallCouldBeFinal = couldBeFinal ? { ids: [...ids], printedBefore: turn.printed.length } : null;
    for (const id of ids) turn.chunkIds.push(id);
    let text = turn.decoder.push(ids);
    if (ids.length < RUNNER_CHUNK_TOKENS || ids.includes(this.eosId)) {
      turn.ended = true; // the last printed chunk: flush what is held back (a broken tail becomes U+FFFD)
      text += turn.decoder.flush();
    }
    if (text) turn.printed.push(text);
    // An ambiguous call (maybe the final call of a 3-token answer) does not count yet: a spurious
    // limitReached would make the service interrupt a runner that has already finished.
    const counted = couldBeFinal ? turn.chunkIds.length - ids.length : turn.chunkIds.length;
    return { kind: 'chunk', text, progress: this.progress(turn, counted), ...(couldBeFinal ? { ended: this.ended(turn, ids.length) } : {}) };
  }

  /** The text of `ids` alone (a caller that is not the runner): no turn sees the call. */
  statelessText(ids: readonly number[]): string {
    return this.stateless(ids).text;
  }

  /** What the runner did for `handle`, or undefined when it is unknown (or fell out of the history). */
  report(handle: string): TurnReport | undefined {
    const turn = this.turns.get(handle);
    if (!turn) return undefined;
    const candidate = turn.finalIds ? null : turn.lastCallCouldBeFinal;
    const generatedIds = turn.finalIds ?? candidate?.ids ?? turn.chunkIds;
    const printed = candidate ? turn.printed.slice(0, candidate.printedBefore) : turn.printed;
    return {
      handle,
      promptTokens: turn.promptTokens,
      generatedIds: [...generatedIds],
      decodeCalls: turn.decodeCalls,
      limitReached: turn.maxTokens !== null && generatedIds.length >= turn.maxTokens,
      printedText: printed.join(''),
    };
  }

  private newTurn(handle: string | null, promptTokens: number, contextWindow: number | null, maxTokens: number | null): Turn {
    return {
      handle,
      promptTokens,
      contextWindow,
      maxTokens,
      decoder: new StreamingDecoder(this.tokenizer, { maxTokens }),
      chunkIds: [],
      ended: false,
      finalIds: null,
      lastCallCouldBeFinal: null,
      decodeCalls: 0,
      printed: [],
    };
  }

  private hasEnded(turn: Turn): boolean {
    if (turn.ended) return true;
    return turn.contextWindow !== null && turn.chunkIds.length > 0 && turn.promptTokens + turn.chunkIds.length >= turn.contextWindow;
  }

  private progress(turn: Turn, generated: number): DecodeOutcome['progress'] {
    if (turn.handle === null) return undefined;
    return { handle: turn.handle, generated, limitReached: turn.maxTokens !== null && generated >= turn.maxTokens };
  }

  private ended(turn: Turn, generatedIds: number): DecodeOutcome['ended'] {
    return turn.handle === null ? undefined : { handle: turn.handle, generatedIds };
  }

  private stateless(ids: readonly number[]): DecodeOutcome {
    return { kind: 'stateless', text: textScrubber.scrub(this.tokenizer.decode(ids)) };
  }
}

function startsWith(ids: readonly number[], prefix: readonly number[]): boolean {
  for (let i = 0; i < prefix.length; i++) if (ids[i] !== prefix[i]) return false;
  return true;
}
