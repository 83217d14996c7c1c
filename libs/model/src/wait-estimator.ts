import type { TurnStatus } from './model.contract';

/** Answer length assumed for a request until answers have been measured, tokens. */
export const ASSUMED_ANSWER_TOKENS = 100;

/** Weight of the newest answer in the typical answer length (exponential moving average). */
const ANSWER_WEIGHT = 0.3;

/** What a turn has done so far, as GenerationTurn knows it. */
export interface TurnFacts {
  typedAt: number;
  /** The first text or the first generated token; null while the prompt is fed. */
  generatingSince: number | null;
  promptTokens: number;
  maxTokens: number;
  generatedTokens: number;
}

/**
 * Time estimates for the queue, from ONE measured rate: the runner feeds the prompt and generates at
 * about the same token/s (no batched prefill on this card), which its footer reports after every turn
 * (model.assumedTokensPerSecond until then). Answer lengths are not known in advance: a waiting
 * request is assumed to produce the typical answer of the last turns (at most its limit).
 */
export class WaitEstimator {
  private typicalAnswerTokens = ASSUMED_ANSWER_TOKENS;

  constructor(
    /** Tokens per second: the runner's last footer figure, or the assumed one. */
    private readonly tokensPerSecond: () => number,
  ) {}

  /** A finished turn's answer length joins the typical one. */
  recordAnswer(completionTokens: number): void {
    this.typicalAnswerTokens = ANSWER_WEIGHT * completionTokens + (1 - ANSWER_WEIGHT) * this.typicalAnswerTokens;
  }

  /** ms to feed or generate `tokens`. */
  msFor(tokens: number): number {
    return Math.round((Math.max(0, tokens) * 1000) / Math.max(0.1, this.tokensPerSecond()));
  }

  /** A whole turn of a waiting request: its prompt fed, then its (expected) answer. */
  turnMs(promptTokens: number, maxTokens: number | null): number {
    return this.msFor(promptTokens + this.expectedAnswer(maxTokens));
  }

  /** The turn on the runner as /health shows it: phase and progress at `now`. */
  status(facts: TurnFacts, now: number): TurnStatus {
    const { promptTokens, maxTokens, generatedTokens, typedAt, generatingSince } = facts;
    const generating = generatingSince !== null;
    return {
      phase: generating ? 'generating' : 'prefill',
      promptTokens,
      fedEstimate: generating ? promptTokens : this.fedEstimate(promptTokens, now - typedAt),
      generatedTokens,
      maxTokens,
      elapsedMs: now - typedAt,
    };
  }

  /** Prompt tokens fed after `elapsedMs` of prefill; never the whole prompt before text comes. */
  fedEstimate(promptTokens: number, elapsedMs: number): number {
    const fed = Math.floor((Math.max(0, elapsedMs) * this.tokensPerSecond()) / 1000);
    return Math.max(0, Math.min(promptTokens - 1, fed));
  }

  /** ms until the turn on the runner ends. */
  remainingMs(status: TurnStatus): number {
    const answer = this.expectedAnswer(status.maxTokens);
    const left = Math.max(answer, status.generatedTokens + 1) - status.generatedTokens;
    const toGenerate = Math.max(0, Math.min(left, status.maxTokens - status.generatedTokens));
    return this.msFor(status.promptTokens - status.fedEstimate + toGenerate);
  }

  private expectedAnswer(maxTokens: number | null): number {
    return Math.min(maxTokens ?? Number.POSITIVE_INFINITY, Math.round(this.typicalAnswerTokens));
  }
}
