import { isObject } from './json-scanner';

/** A past tool call as OpenAI (`arguments` a JSON string) or Ollama (`arguments` an object) sends it back. */
export interface HistoryToolCallInput {
  id?: string;
  type?: string;
  function: { name: string; arguments?: string | Record<string, unknown> | null };
}

/**
 * A history message with its content already reduced to text (the tokenizer's content-part joining),
 * in either API's shape: OpenAI `tool_calls` / `tool_call_id`, Ollama `tool_calls` / `tool_name`.
 */
export interface HistoryMessageInput {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
  content: string | null | undefined;
  tool_calls?: readonly HistoryToolCallInput[] | null;
  tool_call_id?: string;
  tool_name?: string;
  name?: string;
}

/** A past call as Qwen2.5's chat template reads it: arguments as an OBJECT (the template applies `tojson`). */
export interface TemplateToolCall {
  type: 'function';
  function: { name: string; arguments: Record<string, unknown> | string };
}

/** A message as Qwen2.5's chat template reads it. */
export interface TemplateMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  tool_calls?: TemplateToolCall[];
}

/**
 * History → the messages Qwen2.5's template expects: `developer` → `system`; null content → '';
 * assistant `tool_calls` with string arguments decoded into objects (else the template's `tojson` would
 * print a quoted string: `"arguments": "{\"city\": …}"`); tool results keep only their content — the
 * template renders consecutive ones inside one user turn as `<tool_response>` blocks, in order, and
 * has no place for `tool_call_id` / `tool_name`. Arguments that are not a JSON object stay a string
 * (the model then sees what the client sent, quoted).
 */
export function toTemplateMessages(messages: readonly HistoryMessageInput[]): TemplateMessage[] {
  return messages.map((message) => {
    const role = message.role === 'developer' ? 'system' : message.role;
    const out: TemplateMessage = { role, content: message.content ?? '' };
    if (role === 'assistant' && message.tool_calls && message.tool_calls.length > 0) {
      out.tool_calls = message.tool_calls.map((call) => ({
        type: 'function',
        function: { name: call.function.name, arguments: decodeArguments(call.function.arguments) },
      }));
    }
    return out;
  });
}

function decodeArguments(raw: string | Record<string, unknown> | null | undefined): Record<string, unknown> | string {
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'string') return raw;
  if (raw.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    return isObject(parsed) ? parsed : raw;
  } catch {
    return raw;
  }
}
