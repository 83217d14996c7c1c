import { Template } from '@huggingface/jinja';
import type { ChatMessage, ChatRole } from '@qwen/tokenizer';
import type { LiteralTokenText } from './literal-token-text';

/** One OpenAI-style content part; only text parts carry text the model can read. */
export interface ChatContentPart {
  type: string;
  text?: string;
}

/** A message as callers may give it: content as a string or as an array of text parts. */
export interface RenderableMessage {
  role: ChatRole;
  content: string | ChatContentPart[] | null | undefined;
  name?: string;
}

/** Text parts of one message are joined with this (as vLLM does). */
export const CONTENT_PART_SEPARATOR = '\n';

/**
 * Renders the model's own `chat_template` (tokenizer_config.json) with a real jinja engine and
 * `add_generation_prompt=true`, byte-identical to Hugging Face `apply_chat_template`.
 * `developer` messages are rendered as `system`; when the conversation has no system message and a
 * default system prompt is configured, it is inserted first (else the template's own default applies).
 */
export class ChatTemplateRenderer {
  private readonly template: Template;

  constructor(
    chatTemplate: string,
    private readonly defaultSystemPrompt: string | null = null,
    private readonly specialTokens: Record<string, string | null> = {},
    private readonly literalText: LiteralTokenText | null = null,
  ) {
    this.template = new Template(chatTemplate);
  }

  /** The normalised conversation that is rendered (plain text contents, developer → system, default system). */
  normalize(messages: readonly RenderableMessage[]): ChatMessage[] {
    const normalized = messages.map((message): ChatMessage => {
      const out: ChatMessage = { role: message.role === 'developer' ? 'system' : message.role, content: contentText(message.content) };
      if (message.name !== undefined) out.name = message.name;
      return out;
    });
    if (this.defaultSystemPrompt !== null && !normalized.some((m) => m.role === 'system')) {
      normalized.unshift({ role: 'system', content: this.defaultSystemPrompt });
    }
    return normalized;
  }

  /**
   * The prompt string, ending with the generation prompt `<|im_start|>assistant\n` (unless generationPrompt
   * is false). With a `literalText`, everything taken from the request is marked first, so a token
   * spelled in it stays text: tokenize the result with `QwenTokenizer.encodePrompt`.
   */
  render(messages: readonly RenderableMessage[], generationPrompt = true): string {
    const request = { messages: this.normalize(messages) };
    return this.template.render({
      ...this.specialTokens,
      ...(this.literalText ? this.literalText.mark(request) : request),
      add_generation_prompt: generationPrompt,
    });
  }

  /** The upstream server's /encode: `text` as the only user message after the default system prompt. */
  renderSingleUserMessage(text: string): string {
    return this.render([{ role: 'user', content: text }]);
  }
}

function contentText(content: RenderableMessage['content']): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((part) => part && part.type === 'text' && typeof part.text === 'string')
    .map((part) => part.text as string)
    .join(CONTENT_PART_SEPARATOR);
}

/** The renderer of `tokenizer`'s own chat template and special tokens; request text stays text. */
export function chatTemplateRendererFor(
  tokenizer: { chatTemplate: string; config: { eos_token?: unknown }; literalText: LiteralTokenText },
  defaultSystemPrompt: string | null = null,
): ChatTemplateRenderer {
  const specialTokens = { eos_token: typeof tokenizer.config.eos_token === 'string' ? tokenizer.config.eos_token : null, bos_token: null };
  return new ChatTemplateRenderer(tokenizer.chatTemplate, defaultSystemPrompt, specialTokens, tokenizer.literalText);
}
