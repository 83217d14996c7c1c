/**
 * The contract between the service and OUR tokenizer server process (apps/tokenizer-server).
 * The runner-facing part (/bos_id, /eos_id, /encode, /decode) is fixed by the upstream runner
 * (../shared/runner-protocol.md); the rest is ours.
 */

export const QWEN_BOS_ID = -1;
export const QWEN_ENDOFTEXT_ID = 151643;
export const QWEN_IM_START_ID = 151644;
export const QWEN_IM_END_ID = 151645;
export const QWEN_EOS_ID = QWEN_IM_END_ID;
export const QWEN_UPSTREAM_SYSTEM_PROMPT = 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.';

export type ChatRole = 'system' | 'developer' | 'user' | 'assistant' | 'tool';

/** One message of a conversation, already normalised: content is plain text. */
export interface ChatMessage {
  role: ChatRole;
  content: string;
  name?: string;
}

/** POST /prompts — register a complete prompt; the runner is then given only the handle. */
export interface RegisterPromptRequest {
  /** A conversation, rendered with the model's chat template plus the generation prompt. */
  messages?: ChatMessage[];
  /** Or raw text, tokenized as is (no template): legacy completions, Ollama `raw`. */
  prompt?: string;
  /** The runner's window (max_token_len read from its start-up output). */
  contextWindow: number;
  /** Requested output limit; absent = all the room the window leaves. */
  maxTokens?: number;
  /** Drop the oldest non-system turns (keeping system + the last user turn) until it fits. Default true. */
  dropOldTurns?: boolean;
}

export interface RegisterPromptResponse {
  /** Short, single-line, unguessable, single-use. What the service types into the runner. */
  handle: string;
  promptTokens: number;
  /** The effective output limit: min(requested, room left). The tokenizer never lets text past it reach the runner. */
  maxTokens: number;
  /** How many old messages were dropped to fit the window. */
  droppedMessages: number;
  /** Epoch ms after which the handle is no longer honoured. */
  expiresAt: number;
}

/** 400 body of POST /prompts when even the shortest transcript does not fit. */
export interface ContextLengthExceededBody {
  error: { code: 'context_length_exceeded'; message: string; promptTokens: number; contextWindow: number };
}

/** GET /turns/:handle — what the runner really did for one registered prompt. */
export interface TurnReport {
  handle: string;
  promptTokens: number;
  /** Ids carried by the runner's final /decode call (all generated ids), or all seen so far while running. */
  generatedIds: number[];
  /** Number of /decode calls the runner made for this turn. */
  decodeCalls: number;
  /** True once the generated count passed the handle's maxTokens. */
  limitReached: boolean;
  /** The text the runner was given to print, in order (after UTF-8 repair, scrubbing and the limit cut). */
  printedText: string;
}

/** Messages the tokenizer server sends to its parent over the IPC channel (child_process.fork). */
export type TokenizerEvent =
  | { type: 'ready'; port: number; source: TokenizerSourceKind; tokenizerDir: string }
  | { type: 'turn-start'; handle: string; promptTokens: number }
  | { type: 'tokens'; handle: string; generated: number; limitReached: boolean };

export type TokenizerSourceKind = 'model-dir' | 'npm-package';

/**
 * A turn's progress as the service sees it, on ONE channel (TokenizerBridge.progress$): the runner
 * typed a handle (`turn-start`), generated ids (`tokens`), made its final /decode with all generated
 * ids (`turn-end`), or sent /encode a text that is not a live handle (`unknown-line`).
 */
export type TurnProgress =
  | { type: 'turn-start'; handle: string; promptTokens: number }
  | { type: 'tokens'; handle: string; generated: number; limitReached: boolean }
  | { type: 'turn-end'; handle: string; generatedIds: number }
  | { type: 'unknown-line' };

/** What a finished turn used, as the tokenizer counted it. */
export interface TurnUsage {
  completionTokens: number;
}

/** The state of the tokenizer dependency as the rest of the service sees it. */
export type TokenizerStateName = 'stopped' | 'starting' | 'ready' | 'restarting' | 'failed';

export interface TokenizerSnapshot {
  state: TokenizerStateName;
  mode: 'builtin' | 'upstream';
  pid: number | null;
  port: number;
  restarts: number;
  lastError: string | null;
  /** Where tokenizer.json came from (builtin mode). */
  source: TokenizerSourceKind | null;
  /** Human-readable limits of the current mode (upstream: no custom system prompt, no history). */
  limitations: string[];
}

/** Thrown by the TokenizerClient when the tokenizer cannot be reached quickly. Maps to HTTP 503. */
export class TokenizerUnavailableError extends Error {
  constructor(message = 'tokenizer unavailable') {
    super(message);
    this.name = 'TokenizerUnavailableError';
  }
}

/** Thrown by the TokenizerClient for a 400 context_length_exceeded. Maps to HTTP 400. */
export class ContextLengthExceededError extends Error {
  constructor(
    readonly promptTokens: number,
    readonly contextWindow: number,
    readonly requestedTokens: number | undefined,
  ) {
    super(
      `This model's maximum context length is ${contextWindow} tokens. However, your messages resulted in ` +
        `${promptTokens} tokens${requestedTokens ? ` (plus ${requestedTokens} requested for the completion)` : ''}. ` +
        'Please reduce the length of the messages or the completion.',
    );
    this.name = 'ContextLengthExceededError';
  }
}
