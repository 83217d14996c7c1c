import type { ChatRole, ChatToolCall, TemplateTool } from '@qwen/tokenizer';
import type { FitRequest, RenderableMessage } from '@qwen/tokenizer-engine';

/** A request the server cannot use: 400 `{"error":{"code":"invalid_request","message"}}` over HTTP, `refused` over IPC. */
export class InvalidRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRequestError';
  }
}

const ROLES: readonly ChatRole[] = ['system', 'developer', 'user', 'assistant', 'tool'];

type Body = Record<string, unknown>;

export function asBody(body: unknown): Body {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new InvalidRequestError('the body must be a JSON object');
  return body as Body;
}

/** `token_ids` (the runner's field) or `tokens`: an array of integers. */
export function parseTokenIds(body: Body): number[] {
  const ids = body.token_ids ?? body.tokens;
  if (!Array.isArray(ids) || !ids.every((id) => Number.isInteger(id))) {
    throw new InvalidRequestError('token_ids (or tokens) must be an array of integers');
  }
  return ids as number[];
}

export function parseMessages(value: unknown): RenderableMessage[] {
  if (!Array.isArray(value)) throw new InvalidRequestError('messages must be an array');
  return value.map((message, index) => {
    if (!message || typeof message !== 'object') throw new InvalidRequestError(`messages[${index}] must be an object`);
    const { role, content, name, toolCalls } = message as Body;
    if (!ROLES.includes(role as ChatRole)) throw new InvalidRequestError(`messages[${index}].role must be one of ${ROLES.join(', ')}`);
    const textual =
      typeof content === 'string' ||
      content === null ||
      content === undefined ||
      (Array.isArray(content) && content.every((part) => part && typeof part === 'object' && typeof (part as Body).type === 'string'));
    if (!textual) throw new InvalidRequestError(`messages[${index}].content must be a string or an array of content parts`);
    if (name !== undefined && typeof name !== 'string') throw new InvalidRequestError(`messages[${index}].name must be a string`);
    const calls = toolCalls === undefined ? undefined : parseToolCalls(toolCalls, `messages[${index}].toolCalls`);
    return { role, content, ...(name !== undefined ? { name } : {}), ...(calls ? { toolCalls: calls } : {}) } as RenderableMessage;
  });
}

function isPlainObject(value: unknown): value is Body {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

function parseToolCalls(value: unknown, field: string): ChatToolCall[] {
  if (!Array.isArray(value)) throw new InvalidRequestError(`${field} must be an array`);
  return value.map((call, i) => {
    if (!isPlainObject(call) || typeof call.name !== 'string' || !isPlainObject(call.arguments)) {
      throw new InvalidRequestError(`${field}[${i}] must be {name: string, arguments: object}`);
    }
    return { name: call.name, arguments: call.arguments };
  });
}

function parseTools(value: unknown): TemplateTool[] {
  if (!Array.isArray(value)) throw new InvalidRequestError('tools must be an array');
  return value.map((tool, i) => {
    const fn = isPlainObject(tool) ? tool.function : undefined;
    const valid =
      isPlainObject(tool) &&
      tool.type === 'function' &&
      isPlainObject(fn) &&
      typeof fn.name === 'string' &&
      (fn.description === undefined || typeof fn.description === 'string') &&
      (fn.parameters === undefined || isPlainObject(fn.parameters));
    if (!valid) throw new InvalidRequestError(`tools[${i}] must be {type: 'function', function: {name, description?, parameters?}}`);
    return tool as unknown as TemplateTool;
  });
}

function optionalInteger(body: Body, key: string, min: number): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (!Number.isInteger(value) || (value as number) < min) throw new InvalidRequestError(`${key} must be an integer >= ${min}`);
  return value as number;
}

/** The request of an IPC `register` command (RegisterPromptRequest), checked all the same. */
export function parseRegisterPrompt(body: Body): FitRequest {
  const { messages, prompt, contextWindow, maxTokens, dropOldTurns, tools, assistantPrefill } = body;
  if ((messages === undefined) === (prompt === undefined)) throw new InvalidRequestError('give exactly one of messages or prompt');
  if (prompt !== undefined && typeof prompt !== 'string') throw new InvalidRequestError('prompt must be a string');
  if (!Number.isInteger(contextWindow) || (contextWindow as number) < 1) throw new InvalidRequestError('contextWindow must be an integer >= 1');
  if (maxTokens !== undefined && maxTokens !== null && (!Number.isInteger(maxTokens) || (maxTokens as number) < 1)) {
    throw new InvalidRequestError('maxTokens must be an integer >= 1');
  }
  if (dropOldTurns !== undefined && typeof dropOldTurns !== 'boolean') throw new InvalidRequestError('dropOldTurns must be a boolean');
  if (messages === undefined && (tools !== undefined || assistantPrefill !== undefined)) {
    throw new InvalidRequestError('tools and assistantPrefill need messages (a raw prompt has no template)');
  }
  if (assistantPrefill !== undefined && typeof assistantPrefill !== 'string') throw new InvalidRequestError('assistantPrefill must be a string');
  return {
    messages: messages === undefined ? undefined : parseMessages(messages),
    prompt: prompt as string | undefined,
    contextWindow: contextWindow as number,
    maxTokens: maxTokens as number | null | undefined,
    dropOldTurns: dropOldTurns as boolean | undefined,
    tools: tools === undefined ? undefined : parseTools(tools),
    assistantPrefill: assistantPrefill as string | undefined,
    answerReserve: optionalInteger(body, 'answerReserve', 1),
    promptBudget: optionalInteger(body, 'promptBudget', 1),
  };
}
