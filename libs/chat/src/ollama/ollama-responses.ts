import type { ParsedToolCall } from '@qwen/tools';
import type { DoneEvent } from '../pipeline/generation-events';

/** /api/chat answers carry `message`; /api/generate answers carry `response`. */
export type OllamaGenerationKind = 'chat' | 'generate';

/** The measured figures of Ollama's final object, durations in NANOSECONDS (Ollama's unit). */
export interface OllamaDurations {
  total_duration: number;
  load_duration: number;
  prompt_eval_count: number;
  prompt_eval_duration: number;
  eval_count: number;
  eval_duration: number;
}

const ns = (ms: number): number => Math.max(0, Math.round(ms * 1e6));

/**
 * From the `done` event: total = subscription to end; load = the wait for the runner (the model is
 * always loaded, so like Ollama's scheduler wait this is the queue wait); prompt eval = the prefill
 * (typing the handle to the first text); eval = first text to the end. Counts are exact token counts.
 */
function ollamaDurations(done: DoneEvent): OllamaDurations {
  const { timings, usage } = done;
  return {
    total_duration: ns(timings.totalMs),
    load_duration: ns(timings.queuedMs),
    prompt_eval_count: usage.promptTokens,
    prompt_eval_duration: ns(timings.promptEvalMs),
    eval_count: usage.completionTokens,
    eval_duration: ns(timings.evalMs),
  };
}

/** `done_reason` of a finished generation (Ollama says `stop` after tool calls too). */
function ollamaDoneReason(done: DoneEvent): 'stop' | 'length' {
  return done.finishReason === 'length' ? 'length' : 'stop';
}

/** An Ollama `message.tool_calls` entry: arguments as an OBJECT. */
export interface OllamaToolCall {
  function: { index: number; name: string; arguments: Record<string, unknown> };
}

export function ollamaToolCall(index: number, call: ParsedToolCall): OllamaToolCall {
  return { function: { index, name: call.name, arguments: call.arguments } };
}

/** The /api/chat chunk that completes a tool call (`done: false`, content ''). */
export function ollamaToolCallChunk(model: string, createdAt: string, index: number, call: ParsedToolCall): Record<string, unknown> {
  return { model, created_at: createdAt, message: { role: 'assistant', content: '', tool_calls: [ollamaToolCall(index, call)] }, done: false };
}

/** A piece of the answer (`done: false`), in Ollama's key order. */
export function ollamaChunk(kind: OllamaGenerationKind, model: string, createdAt: string, text: string): Record<string, unknown> {
  return kind === 'chat'
    ? { model, created_at: createdAt, message: { role: 'assistant', content: text }, done: false }
    : { model, created_at: createdAt, response: text, done: false };
}

/**
 * The last object (`done: true`): the whole text when not streamed, '' as the last chunk of a stream.
 * /api/generate's deprecated `context` (token ids to continue from) is not returned: use /api/chat.
 */
export function ollamaFinal(
  kind: OllamaGenerationKind,
  model: string,
  createdAt: string,
  text: string,
  done: DoneEvent,
  toolCalls: readonly ParsedToolCall[] = [],
): Record<string, unknown> {
  const message: Record<string, unknown> = { role: 'assistant', content: text };
  if (toolCalls.length > 0) message.tool_calls = toolCalls.map((call, index) => ollamaToolCall(index, call));
  const head = kind === 'chat' ? { model, created_at: createdAt, message } : { model, created_at: createdAt, response: text };
  return { ...head, done_reason: ollamaDoneReason(done), done: true, ...ollamaDurations(done) };
}

/** Ollama's answer to an empty request (no messages / no prompt): the model is loaded, nothing generated. */
export function ollamaLoaded(kind: OllamaGenerationKind, model: string, createdAt: string): Record<string, unknown> {
  const head =
    kind === 'chat'
      ? { model, created_at: createdAt, message: { role: 'assistant', content: '' } }
      : { model, created_at: createdAt, response: '' };
  return { ...head, done_reason: 'load', done: true };
}
