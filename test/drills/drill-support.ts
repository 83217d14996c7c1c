/**
 * Small helpers shared by the failure drills (test/drills/*.e2e-spec.ts): counting runner starts,
 * asking the service a normal question through its OpenAI API, and waiting on a condition.
 */
import type { TestService } from '@qwen/testing';
import { existsSync, readFileSync } from 'node:fs';
import OpenAI from 'openai';

/** Runner processes the emulator saw start (one line each in QWEN_EMU_START_LOG), independent of the service. */
export function runnerStarts(service: TestService): number {
  return existsSync(service.startLog) ? readFileSync(service.startLog, 'utf8').split('\n').filter(Boolean).length : 0;
}

export function openAiClient(service: TestService): OpenAI {
  return new OpenAI({ baseURL: `${service.url}/v1`, apiKey: 'sk-drill', maxRetries: 0, timeout: 30000 });
}

export function chatBody(content: string, extra: Partial<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming> = {}) {
  return { model: 'qwen2.5', messages: [{ role: 'user' as const, content }], ...extra };
}

/** Every drill ends here: the service answers a normal request correctly (the emulator echoes the last user message). */
export async function expectNormalAnswer(service: TestService, content = 'a normal question after the drill'): Promise<void> {
  const answer = await openAiClient(service).chat.completions.create(chatBody(content));
  expect(answer.choices[0].message.content).toBe(content);
  expect(answer.choices[0].finish_reason).toBe('stop');
  const s = service.model.snapshot();
  expect(s.queue).toMatchObject({ length: 0, inFlight: 0 });
}

/** Polls `check` until it returns true (for conditions that have no event, e.g. a file or another process). */
export async function until(check: () => boolean | Promise<boolean>, what: string, ms = 10000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Reads an OpenAI stream to its end; returns the text received and the error that ended it (null if it completed). */
export async function drainStream(
  stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>,
  onChunk: (textSoFar: string) => void = () => undefined,
): Promise<{ text: string; error: unknown; finishReason: string | null }> {
  let text = '';
  let finishReason: string | null = null;
  try {
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finishReason = chunk.choices[0]?.finish_reason ?? finishReason;
      onChunk(text);
    }
    return { text, error: null, finishReason };
  } catch (error) {
    return { text, error, finishReason };
  }
}
