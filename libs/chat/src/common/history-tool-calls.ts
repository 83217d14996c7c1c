import type { ChatToolCall } from '@qwen/tokenizer';
import { ToolRequestError } from '@qwen/tools';

/** A past call as either API sends it back: OpenAI `arguments` as a JSON string, Ollama as an object. */
export interface HistoryToolCall {
  function?: { name?: unknown; arguments?: unknown } | null;
}

/**
 * An assistant message's past calls → the template's calls, arguments as an OBJECT (a JSON string is
 * decoded first, so the template does not encode it twice). `at` names the field in errors
 * (`messages[2].tool_calls`). Throws ToolRequestError (a 400) for a call without a name or with
 * arguments that are not a JSON object.
 */
export function historyToolCalls(calls: readonly HistoryToolCall[], at: string): ChatToolCall[] {
  return calls.map((call, index) => {
    const here = `${at}[${index}].function`;
    const name = call?.function?.name;
    if (typeof name !== 'string' || name === '') throw new ToolRequestError(`${here}.name`, `'${here}.name' must be a non-empty string.`);
    return { name, arguments: decodeArguments(call.function?.arguments, `${here}.arguments`) };
  });
}

function decodeArguments(raw: unknown, at: string): Record<string, unknown> {
  if (raw === null || raw === undefined || raw === '') return {};
  let value: unknown = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw) as unknown;
    } catch (error) {
      throw new ToolRequestError(at, `'${at}' is not valid JSON (${(error as Error).message}).`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ToolRequestError(at, `'${at}' must be a JSON object.`);
  }
  return value as Record<string, unknown>;
}
