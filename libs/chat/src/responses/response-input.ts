import type { ChatMessage } from '@qwen/tokenizer';
import { parseCallArguments, type ResponseContentPart, type ResponseInputItem } from './dto/response-input-validators';

/** The text of a content value: the string, or the parts' texts joined by newlines. */
function contentText(content: string | ResponseContentPart[]): string {
  if (typeof content === 'string') return content;
  return content.map((part) => (part.type === 'refusal' ? part.refusal : part.text)).join('\n');
}

/**
 * A validated Responses request's `instructions` and `input` → the conversation for the chat template:
 * `instructions` first as a system message; a string input is one user message; `developer` becomes
 * `system`; `function_call` items join the assistant message before them (or open one) as tool calls
 * with their arguments decoded into objects; each `function_call_output` is a `tool` message (the
 * template renders consecutive ones as `<tool_response>` blocks of one turn); reasoning items are skipped.
 */
export function responseInputMessages(instructions: string | null | undefined, input: string | ResponseInputItem[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (instructions) messages.push({ role: 'system', content: instructions });
  if (typeof input === 'string') {
    messages.push({ role: 'user', content: input });
    return messages;
  }
  for (const item of input) {
    switch (item.type) {
      case 'function_call': {
        const call = { name: item.name, arguments: parseCallArguments(item.arguments) ?? {} };
        const last = messages[messages.length - 1];
        if (last?.role === 'assistant') last.toolCalls = [...(last.toolCalls ?? []), call];
        else messages.push({ role: 'assistant', content: '', toolCalls: [call] });
        break;
      }
      case 'function_call_output':
        messages.push({ role: 'tool', content: contentText(item.output) });
        break;
      case 'reasoning':
        break;
      default:
        messages.push({ role: item.role === 'developer' ? 'system' : item.role, content: contentText(item.content) });
    }
  }
  return messages;
}
