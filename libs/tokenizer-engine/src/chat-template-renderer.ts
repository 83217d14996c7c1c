import { Template } from '@huggingface/jinja';
import type { ChatMessage, ChatRole, ChatToolCall, TemplateTool } from '@qwen/tokenizer';
import type { LiteralTokenText } from './literal-token-text';
import { compactToolsChatTemplate, printsToolsLikeQwen } from './tools-chat-template';

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
  /** Calls an assistant message made (arguments as objects). */
  toolCalls?: ChatToolCall[];
}

/**
 * How the `<tools>` block prints each tool: compact separators (fewer tokens; only for a template that
 * prints tools as Qwen2.5's does, others are rendered as they are) or the template's own.
 */
export type ToolJsonStyle = 'compact' | 'template';

/** Text parts of one message are joined with this (as vLLM does). */
export const CONTENT_PART_SEPARATOR = '\n';

/**
 * Renders the model's own `chat_template` (tokenizer_config.json) with a real jinja engine and
 * `add_generation_prompt=true`, byte-identical to Hugging Face `apply_chat_template` (with the
 * `compact` tool style, the `<tools>` block prints each tool without the spaces after `,` and `:`).
 * `developer` messages are rendered as `system`; when the conversation has no system message and a
 * default system prompt is configured, it is inserted first (else the template's own default applies).
 * Tools go to the template's `tools`, past calls to each assistant message's `tool_calls` (arguments
 * as objects: the template encodes them once), role `tool` messages become `<tool_response>` blocks.
 */
export class ChatTemplateRenderer {
  private readonly template: Template;

  constructor(
    chatTemplate: string,
    private readonly defaultSystemPrompt: string | null = null,
    private readonly specialTokens: Record<string, string | null> = {},
    toolJson: ToolJsonStyle = 'compact',
    private readonly literalText: LiteralTokenText | null = null,
  ) {
    const compact = toolJson === 'compact' && printsToolsLikeQwen(chatTemplate);
    this.template = new Template(compact ? compactToolsChatTemplate(chatTemplate) : chatTemplate);
  }

  /** The normalised conversation that is rendered (plain text contents, developer → system, default system). */
  normalize(messages: readonly RenderableMessage[]): ChatMessage[] {
    const normalized = messages.map((message): ChatMessage => {
      const out: ChatMessage = { role: message.role === 'developer' ? 'system' : message.role, content: contentText(message.content) };
      if (message.name !== undefined) out.name = message.name;
      if (message.toolCalls !== undefined && message.toolCalls.length > 0) out.toolCalls = message.toolCalls;
      return out;
    });
    if (this.defaultSystemPrompt !== null && !normalized.some((m) => m.role === 'system')) {
      normalized.unshift({ role: 'system', content: this.defaultSystemPrompt });
    }
    return normalized;
  }

  /**
   * The prompt string, ending with the generation prompt `<|im_start|>assistant\n` (unless
   * generationPrompt is false); `tools` (when any) fill the template's `<tools>` block. With a
   * `literalText`, everything taken from the request (messages, tools) is marked first, so a token
   * spelled in it stays text: tokenize the result with `QwenTokenizer.encodePrompt`.
   */
  render(messages: readonly RenderableMessage[], generationPrompt = true, tools: readonly TemplateTool[] = []): string {
    const request = {
      messages: this.normalize(messages).map(templateMessage),
      ...(tools.length > 0 ? { tools: tools.map(templateTool) } : {}),
    };
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

/** A message as the template reads it: past calls under `tool_calls`, in OpenAI's shape. */
function templateMessage(message: ChatMessage): Record<string, unknown> {
  const { toolCalls, ...rest } = message;
  if (!toolCalls) return rest;
  return { ...rest, tool_calls: toolCalls.map((call) => ({ type: 'function', function: { name: call.name, arguments: call.arguments } })) };
}

/** No undefined fields: jinja would print them as null. */
function templateTool(tool: TemplateTool): TemplateTool {
  const { name, description, parameters } = tool.function;
  return {
    type: 'function',
    function: { name, ...(description !== undefined ? { description } : {}), ...(parameters !== undefined ? { parameters } : {}) },
  };
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
  toolJson: ToolJsonStyle = 'compact',
): ChatTemplateRenderer {
  const specialTokens = { eos_token: typeof tokenizer.config.eos_token === 'string' ? tokenizer.config.eos_token : null, bos_token: null };
  return new ChatTemplateRenderer(tokenizer.chatTemplate, defaultSystemPrompt, specialTokens, toolJson, tokenizer.literalText);
}
