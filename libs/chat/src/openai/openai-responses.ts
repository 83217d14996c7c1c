import { createHash } from 'node:crypto';
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

export type OpenAiFinishReason = 'stop' | 'length';

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

export function chatCompletion(header: OpenAiResponseHeader, content: string, done: DoneEvent) {
  return {
    id: header.id,
    object: 'chat.completion' as const,
    created: header.created,
    model: header.model,
    system_fingerprint: header.system_fingerprint,
    choices: [
      {
        index: 0,
        message: { role: 'assistant' as const, content, refusal: null },
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
