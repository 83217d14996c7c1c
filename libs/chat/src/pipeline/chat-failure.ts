import { ModelError } from '@qwen/model';
import { ContextLengthExceededError, TokenizerUnavailableError } from '@qwen/tokenizer';
import { ToolRequestError } from '@qwen/tools';
import { StructuredOutputError } from '../assistant/structured-output-error';
import { UnknownModelError } from './model-catalog';

/**
 * What went wrong with a chat request, independent of the dialect. Each dialect maps the kind to
 * its own status code and error body (OpenAI: 429 for a full queue; Ollama: 503 "server busy…").
 */
export type ChatFailureKind =
  | 'queue-full'
  | 'queue-timeout'
  | 'queue-wait-too-long'
  | 'unavailable'
  | 'tokenizer-unavailable'
  | 'process-failed'
  | 'timeout'
  | 'context-length'
  | 'model-not-found'
  | 'client-closed'
  | 'invalid-request'
  | 'json-validate-failed'
  | 'unexpected';

export interface ChatFailure {
  kind: ChatFailureKind;
  message: string;
  /** Seconds a client should wait before retrying (Retry-After), when meaningful. */
  retryAfterSeconds: number | null;
  /** The request field at fault (`tools[0].function.name`, `response_format`), when one is. */
  param?: string;
  error: unknown;
}

/** Raised into a waiting request when its client disconnected: nothing is written any more. */
export class ClientClosedError extends Error {
  constructor() {
    super('the client closed the connection');
    this.name = 'ClientClosedError';
  }
}

/** Seconds to wait when the tokenizer is restarting. */
const TOKENIZER_RETRY_AFTER_SECONDS = 5;

/** Classifies an error of ModelService.generate(), the catalog or the pipeline; null for anything else. */
export function classifyChatFailure(error: unknown): ChatFailure | null {
  if (error instanceof ModelError) {
    return { kind: error.kind, message: error.message, retryAfterSeconds: error.retryAfterSeconds, error };
  }
  if (error instanceof TokenizerUnavailableError) {
    return {
      kind: 'tokenizer-unavailable',
      message: `the tokenizer is not available (${error.message}); try again shortly`,
      retryAfterSeconds: TOKENIZER_RETRY_AFTER_SECONDS,
      error,
    };
  }
  if (error instanceof ContextLengthExceededError) {
    return { kind: 'context-length', message: error.message, retryAfterSeconds: null, error };
  }
  if (error instanceof UnknownModelError) {
    return { kind: 'model-not-found', message: error.message, retryAfterSeconds: null, error };
  }
  if (error instanceof ToolRequestError) {
    return { kind: 'invalid-request', message: error.message, retryAfterSeconds: null, param: error.param, error };
  }
  if (error instanceof StructuredOutputError) {
    return { kind: 'json-validate-failed', message: error.message, retryAfterSeconds: null, param: error.param, error };
  }
  if (error instanceof ClientClosedError) {
    return { kind: 'client-closed', message: error.message, retryAfterSeconds: null, error };
  }
  return null;
}

/** Like classifyChatFailure, but anything unknown is 'unexpected' (its message is not shown to clients). */
export function toChatFailure(error: unknown): ChatFailure {
  return classifyChatFailure(error) ?? { kind: 'unexpected', message: 'internal server error', retryAfterSeconds: null, error };
}
