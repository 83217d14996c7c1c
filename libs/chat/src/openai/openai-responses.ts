import { createHash } from 'node:crypto';
import type { ParsedToolCall } from '@qwen/tools';
import type { DoneEvent } from '../pipeline/generation-events';

/** The fields every response and chunk of one request share. */
export interface OpenAiResponseHeader {
  id: string;
  created: number;
  model: string;
  system_fingerprint: string;
}

export interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export type OpenAiFinishReason = 'stop' | 'length' | 'tool_calls';

/** `fp_` + a hash of what determines the output: the model id, its window and the loaded sampling settings. */
export function systemFingerprint(modelId: string, maxTokenLen: number | null, sampling: Record<string, unknown> | null): string {
  const hash = createHash('sha256').update(JSON.stringify([modelId, maxTokenLen, sampling])).digest('hex');
  return `fp_${hash.slice(0, 10)}`;
}

export function usageOf(done: DoneEvent): OpenAiUsage {
  const { promptTokens, completionTokens } = done.usage;
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

export function finishReasonOf(done: DoneEvent): OpenAiFinishReason {
  return done.finishReason;
}

/** An OpenAI `message.tool_calls` entry: arguments as a JSON string. */
export function openAiToolCall(call: ParsedToolCall) {
  return { id: call.id, type: 'function' as const, function: { name: call.name, arguments: call.argumentsJson } };
}

/**
 * A chat completion. With tool calls, content is the text before the first call, or null when there is
 * none (OpenAI's `content: null`), and `finish_reason` is `tool_calls`.
 */
export function chatCompletion(header: OpenAiResponseHeader, content: string, done: DoneEvent, toolCalls: readonly ParsedToolCall[] = []) {
  const message =
    toolCalls.length > 0
      ? { role: 'assistant' as const, content: content === '' ? null : content, refusal: null, tool_calls: toolCalls.map(openAiToolCall) }
      : { role: 'assistant' as const, content, refusal: null };
  return {
    id: header.id,
    object: 'chat.completion' as const,
    created: header.created,
    model: header.model,
    system_fingerprint: header.system_fingerprint,
    choices: [
      {
        index: 0,
        message,
        logprobs: null,
        finish_reason: finishReasonOf(done),
      },
    ],
    usage: usageOf(done),
  };
}

export function textCompletion(header: OpenAiResponseHeader, text: string, done: DoneEvent) {
  return {
    id: header.id,
    object: 'text_completion' as const,
    created: header.created,
    model: header.model,
    system_fingerprint: header.system_fingerprint,
    choices: [{ text, index: 0, logprobs: null, finish_reason: finishReasonOf(done) }],
    usage: usageOf(done),
  };
}

/** A `data: …` server-sent event. */
export function sseEvent(data: unknown): string {
  return `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}

export const SSE_DONE = sseEvent('[DONE]');
