import { ValidationArguments, ValidationOptions, registerDecorator } from 'class-validator';

/** The message roles the Responses API accepts in `input`. */
export const RESPONSE_INPUT_ROLES = ['user', 'assistant', 'system', 'developer'] as const;
export type ResponseInputRole = (typeof RESPONSE_INPUT_ROLES)[number];

/** A text part of a message: `input_text` (user side), `output_text` (a past answer) or `refusal`. */
export type ResponseContentPart = { type: 'input_text' | 'output_text'; text: string } | { type: 'refusal'; refusal: string };

export interface ResponseMessageItem {
  type?: 'message';
  role: ResponseInputRole;
  content: string | ResponseContentPart[];
}

export interface ResponseFunctionCallItem {
  type: 'function_call';
  call_id: string;
  name: string;
  /** The arguments as JSON text (an object). */
  arguments: string;
}

export interface ResponseFunctionCallOutputItem {
  type: 'function_call_output';
  call_id: string;
  output: string | ResponseContentPart[];
}

/** A reasoning item sent back by a client; this model produces none, they carry nothing it reads. */
export interface ResponseReasoningItem {
  type: 'reasoning';
}

export type ResponseInputItem = ResponseMessageItem | ResponseFunctionCallItem | ResponseFunctionCallOutputItem | ResponseReasoningItem;

const TEXT_ONLY_PARTS = new Set(['input_image', 'input_file', 'input_audio']);
const METADATA_MAX_KEYS = 16;
const METADATA_KEY_MAX = 64;
const METADATA_VALUE_MAX = 512;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why a content value (string or text parts) is invalid, or null. */
function contentProblem(content: unknown, at: string): string | null {
  if (typeof content === 'string') return null;
  if (!Array.isArray(content)) return `${at} must be a string or an array of input_text parts`;
  for (const [index, part] of content.entries()) {
    const partAt = `${at}[${index}]`;
    const type = isRecord(part) ? part.type : undefined;
    if (typeof type === 'string' && TEXT_ONLY_PARTS.has(type)) return `${partAt}: ${type} parts are not supported: this model reads text only`;
    if (type === 'refusal' && typeof (part as { refusal?: unknown }).refusal === 'string') continue;
    if ((type !== 'input_text' && type !== 'output_text') || typeof (part as { text?: unknown }).text !== 'string') {
      return `${partAt} must be {"type": "input_text", "text": string}`;
    }
  }
  return null;
}

function nonEmptyString(value: unknown): boolean {
  return typeof value === 'string' && value !== '';
}

/** A function call's `arguments` text as an object ('' = no arguments); null when it is not a JSON object. */
export function parseCallArguments(text: string): Record<string, unknown> | null {
  if (text.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : null;
  } catch {
    return null;
  }
}

/** Why one input item is invalid, or null. */
function itemProblem(item: unknown, at: string): string | null {
  if (!isRecord(item)) return `${at} must be an object`;
  const type = item.type ?? 'message';
  switch (type) {
    case 'message':
      if (!RESPONSE_INPUT_ROLES.includes(item.role as ResponseInputRole)) return `${at}.role must be one of ${RESPONSE_INPUT_ROLES.join(', ')}`;
      return contentProblem(item.content, `${at}.content`);
    case 'function_call':
      if (!nonEmptyString(item.call_id)) return `${at}.call_id must be a non-empty string`;
      if (!nonEmptyString(item.name)) return `${at}.name must be a non-empty string`;
      if (typeof item.arguments !== 'string' || parseCallArguments(item.arguments) === null) {
        return `${at}.arguments must be the arguments as the text of a JSON object`;
      }
      return null;
    case 'function_call_output':
      if (!nonEmptyString(item.call_id)) return `${at}.call_id must be a non-empty string`;
      return contentProblem(item.output, `${at}.output`);
    case 'reasoning':
      return null;
    case 'item_reference':
      return `${at}: item references are not supported: this server is stateless and keeps no items (send the items themselves)`;
    default:
      return `${at}.type '${String(type)}' is not supported (message, function_call, function_call_output)`;
  }
}

/** Why `input` is invalid, or null when it is a string or a non-empty array of valid items. */
export function responseInputProblem(value: unknown): string | null {
  if (typeof value === 'string') return null;
  if (!Array.isArray(value)) return 'input must be a string or an array of input items';
  if (value.length === 0) return 'input must not be an empty array';
  for (const [index, item] of value.entries()) {
    const problem = itemProblem(item, `input[${index}]`);
    if (problem) return problem;
  }
  return null;
}

/** Why `metadata` breaks OpenAI's rules (at most 16 string pairs, keys ≤ 64 and values ≤ 512 characters), or null. */
export function metadataProblem(value: unknown): string | null {
  if (!isRecord(value)) return 'metadata must be an object of string values';
  const entries = Object.entries(value);
  if (entries.length > METADATA_MAX_KEYS) return `metadata may hold at most ${METADATA_MAX_KEYS} keys`;
  for (const [key, entry] of entries) {
    if (key.length > METADATA_KEY_MAX) return `metadata keys may be at most ${METADATA_KEY_MAX} characters`;
    if (typeof entry !== 'string') return `metadata.${key} must be a string`;
    if (entry.length > METADATA_VALUE_MAX) return `metadata.${key} may be at most ${METADATA_VALUE_MAX} characters`;
  }
  return null;
}

function problemDecorator(name: string, problem: (value: unknown) => string | null, options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: {
        validate: (value: unknown) => problem(value) === null,
        // The messages name their own path (`input[2].content`); the pipe strips the leading property name.
        defaultMessage: (args?: ValidationArguments) => problem(args?.value) ?? `${String(propertyName)} is invalid`,
      },
    });
}

/** Responses `input`: a string, or an array of message / function_call / function_call_output items (text only). */
export function IsResponseInput(options?: ValidationOptions): PropertyDecorator {
  return problemDecorator('isResponseInput', responseInputProblem, options);
}

/** Responses `metadata`: up to 16 string key/value pairs, echoed in the response. */
export function IsResponseMetadata(options?: ValidationOptions): PropertyDecorator {
  return problemDecorator('isResponseMetadata', metadataProblem, options);
}
