import { ChatTemplateRenderer, type RenderableMessage } from './chat-template-renderer';
import { PromptFitter } from './prompt-fitter';
import { QwenTokenizer } from './qwen-tokenizer';
import { resolveTokenizerFiles } from './tokenizer-files';

describe(PromptFitter.name, () => {
  let tokenizer: QwenTokenizer;
  let renderer: ChatTemplateRenderer;
  let fitter: PromptFitter;
  const count = (messages: RenderableMessage[]) => tokenizer.encode(renderer.render(messages)).length;
  const conversation: RenderableMessage[] = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'First question, rather long: ' + 'words '.repeat(40) },
    { role: 'assistant', content: 'First answer ' + 'more '.repeat(40) },
    { role: 'user', content: 'Second question?' },
    { role: 'assistant', content: 'Second answer.' },
    { role: 'user', content: 'Last question?' },
  ];

  beforeAll(() => {
    tokenizer = QwenTokenizer.load(resolveTokenizerFiles(null));
    renderer = new ChatTemplateRenderer(tokenizer.chatTemplate);
    fitter = new PromptFitter(tokenizer, renderer);
  });

  it('keeps everything when it fits; maxTokens = requested, or all the room left when absent', () => {
    const full = count(conversation);
    const withLimit = fitter.fit({ messages: conversation, contextWindow: 1024, maxTokens: 50 });
    expect(withLimit).toEqual({
      ok: true,
      prompt: { ids: tokenizer.encode(renderer.render(conversation)), promptTokens: full, maxTokens: 50, droppedMessages: 0 },
    });
    const noLimit = fitter.fit({ messages: conversation, contextWindow: 1024 });
    expect(noLimit.ok && noLimit.prompt.maxTokens).toBe(1024 - full);
  });

  it('drops the oldest non-system messages one at a time until prompt + maxTokens fits', () => {
    const withoutFirstPair = [conversation[0], ...conversation.slice(3)];
    const window = count(withoutFirstPair) + 20;
    const result = fitter.fit({ messages: conversation, contextWindow: window, maxTokens: 20 });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.prompt.droppedMessages).toBe(2);
    expect(result.prompt.promptTokens).toBe(count(withoutFirstPair));
    expect(result.prompt.maxTokens).toBe(20);
    expect(tokenizer.decode(result.prompt.ids)).toBe(renderer.render(withoutFirstPair));
  });

  it('always keeps system messages and the last user message with what follows it', () => {
    const minimal = [conversation[0], conversation[5]];
    const result = fitter.fit({ messages: conversation, contextWindow: count(minimal) + 1 });
    expect(result.ok && result.prompt.droppedMessages).toBe(4);
    expect(result.ok && result.prompt.maxTokens).toBe(1);
    expect(result.ok && tokenizer.decode(result.prompt.ids)).toBe(renderer.render(minimal));
  });

  it('answers context_length_exceeded when even the shortest transcript does not fit', () => {
    const minimal = [conversation[0], conversation[5]];
    const result = fitter.fit({ messages: conversation, contextWindow: count(minimal) + 5, maxTokens: 10 });
    expect(result).toEqual({
      ok: false,
      error: {
        error: {
          code: 'context_length_exceeded',
          message: expect.stringContaining(`maximum context length is ${count(minimal) + 5} tokens`),
          promptTokens: count(minimal),
          contextWindow: count(minimal) + 5,
        },
      },
    });
  });

  it('drops nothing when dropOldTurns is false', () => {
    const result = fitter.fit({ messages: conversation, contextWindow: count(conversation) - 1, dropOldTurns: false });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.error.promptTokens).toBe(count(conversation));
  });

  it('tokenizes a raw prompt as is: no template, no dropping', () => {
    const result = fitter.fit({ prompt: 'Hello world', contextWindow: 10, maxTokens: 100 });
    expect(result.ok).toBe(false);
    const fits = fitter.fit({ prompt: 'Hello world', contextWindow: 10 });
    expect(fits).toEqual({ ok: true, prompt: { ids: [9707, 1879], promptTokens: 2, maxTokens: 8, droppedMessages: 0 } });
  });
});
