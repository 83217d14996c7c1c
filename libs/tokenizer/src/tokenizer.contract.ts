/**
 * The contract between the service and OUR tokenizer server process (apps/tokenizer-server).
 * The runner-facing HTTP part (/bos_id, /eos_id, /encode, /decode) is fixed by the upstream runner
 * (docs/runner-protocol, ../shared/runner-protocol.md); everything else — registering prompts,
 * releasing them, a turn's progress and its report — goes over channels that only the forking
 * service holds, never over the port: registrations (RegisterCommand down, RegistrationAnswer up)
 * over a private pipe read by the process's worker thread (docs/tokenizer.md), everything else over
 * the IPC channel of the fork (TokenizerCommand down, TokenizerProcessMessage up).
 */

export type ChatRole = 'system' | 'developer' | 'user' | 'assistant' | 'tool';

/** A tool call the assistant made in an earlier turn; arguments are an OBJECT (the template encodes it once). */
export interface ChatToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

/** One message of a conversation, already normalised: content is plain text. Role 'tool' = a tool result. */
export interface ChatMessage {
  role: ChatRole;
  content: string;
  name?: string;
  /** Calls an assistant message made; rendered as `<tool_call>` blocks by the chat template. */
  toolCalls?: ChatToolCall[];
}

/** A tool offered to the model, as the chat template's `<tools>` block renders it. */
export interface TemplateTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}

/** Register a complete prompt (`register` on the registration channel); the runner is then given only the handle. */
export interface RegisterPromptRequest {
  /** A conversation, rendered with the model's chat template plus the generation prompt. */
  messages?: ChatMessage[];
  /** Or raw text, tokenized as is (no template): legacy completions, Ollama `raw`. */
  prompt?: string;
  /** The runner's window (max_token_len read from its start-up output). */
  contextWindow: number;
  /** Requested output limit, an upper bound: clamped to the room the prompt leaves (it never makes history shorter). */
  maxTokens?: number;
  /** Drop the oldest non-system turns (keeping system + the last user turn) until it fits. Default true. */
  dropOldTurns?: boolean;
  /** Tools rendered in the template's `<tools>` block (compact separators). Only with messages. */
  tools?: TemplateTool[];
  /** Text the assistant turn starts with: part of the prompt ids after the generation prompt, not of the answer. */
  assistantPrefill?: string;
  /** Tokens the prompt must leave for the answer (default 1); old turns are dropped to keep them, else context_length_exceeded. */
  answerReserve?: number;
  /** Most prompt tokens wanted (default: the window): old turns are dropped to meet it; system + last user message always kept. */
  promptBudget?: number;
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

/** Why a registration was refused when even the shortest transcript does not fit. */
export interface ContextLengthExceededBody {
  error: { code: 'context_length_exceeded'; message: string; promptTokens: number; contextWindow: number };
}

/** IPC `report` — what the runner really did for one registered prompt. */
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

/** A registration the tokenizer process refused (`refused`). */
export type TokenizerRefusal = ContextLengthExceededBody['error'] | { code: 'invalid_request' | 'internal_error'; message: string };

/**
 * A registration, sent over the registration channel: a pipe from the service straight to the
 * tokenizer process's worker thread (one JSON document per line), which the thread answering the
 * runner never reads. Answered there too, by a RegistrationAnswer with the same id, once the handle
 * is live.
 */
export interface RegisterCommand {
  type: 'register';
  id: number;
  request: RegisterPromptRequest;
}

/** The answer to a RegisterCommand (on the registration channel). */
export type RegistrationAnswer = { type: 'registered'; id: number; response: RegisterPromptResponse } | { type: 'refused'; id: number; error: TokenizerRefusal };

/** Messages the service sends to the tokenizer process over the IPC channel (child_process.fork). */
export type TokenizerCommand =
  /** Forget a registration that will never be typed. */
  | { type: 'release'; handle: string }
  | { type: 'report'; id: number; handle: string }
  /** The runner process now running (null: none): only its connections may start and feed a turn. */
  | { type: 'runner'; pid: number | null };

/** Messages the tokenizer process sends to the service: over the IPC channel, and the registration answers over theirs. */
export type TokenizerProcessMessage =
  | { type: 'ready'; port: number; source: TokenizerSourceKind; tokenizerDir: string }
  | RegistrationAnswer
  | { type: 'reported'; id: number; report: TurnReport | null }
  | TurnProgress;

export type TokenizerSourceKind = 'model-dir' | 'npm-package';

/**
 * A turn's progress as the service sees it, on ONE channel (TokenizerBridge.progress$): the runner
 * typed a handle (`turn-start`), was given text to print (`printed-text`), generated ids (`tokens`),
 * made its final /decode with all generated ids (`turn-end`), or sent /encode a text that is not a
 * live handle (`unknown-line`).
 *
 * `printedTextReported`: this tokenizer reports (`printed-text`, before the matching `tokens`) the
 * text it answered to every /decode chunk of the turn, so the service can tell model text from any
 * other output of the runner (our server: true; a tokenizer without IPC sends no progress at all).
 */
export type TurnProgress =
  | { type: 'turn-start'; handle: string; promptTokens: number; printedTextReported: boolean }
  | { type: 'printed-text'; handle: string; text: string }
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

/** Thrown when the tokenizer is not ready, or its process went away during a call. Maps to HTTP 503. */
export class TokenizerUnavailableError extends Error {
  constructor(message = 'tokenizer unavailable') {
    super(message);
    this.name = 'TokenizerUnavailableError';
  }
}

/** Thrown when a prompt does not fit the window even after dropping old turns. Maps to HTTP 400. */
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
