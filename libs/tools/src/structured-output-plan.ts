import { ToolRequestError } from './tool-request-error';
import { isObject } from './json-scanner';
import type { JsonSchema } from './tool-spec';

/** The OpenAI error code for an answer that did not validate (Groq's precedent; SDKs do not retry a 400). */
export const JSON_VALIDATE_FAILED = 'json_validate_failed';

/** How to obtain JSON from a model without a constrained sampler: ask, pre-fill, stop at the close, validate. */
export interface StructuredOutputPlan {
  /** `json_object`: any JSON object; `json_schema`: a value matching `schema`. */
  kind: 'json_object' | 'json_schema';
  /** The schema to validate against (null for json_object). */
  schema: JsonSchema | null;
  /** The schema's name (OpenAI `json_schema.name`), for messages. */
  name: string | null;
  /** OpenAI `strict` as sent (validation is always applied; it is only reported). */
  strict: boolean;
  /** The request field it came from, for 400 errors: `response_format`, `text.format` or `format`. */
  param: string;
  /** Text to append to the system prompt: what to answer, with the schema minified. */
  instruction: string;
  /** Text the assistant turn starts with (`{`, `[` or '' for a scalar root). Feed it to the detector and validator too. */
  prefill: string;
}

/** OpenAI `response_format` (Chat Completions) or `text.format` (Responses, flat json_schema). */
export interface OpenAiResponseFormatInput {
  type?: unknown;
  json_schema?: unknown;
  name?: unknown;
  schema?: unknown;
  strict?: unknown;
  description?: unknown;
}

/**
 * OpenAI `response_format` / Responses `text.format` → plan; null for absent or `text`.
 * Throws ToolRequestError for an unknown type or a json_schema without a schema object.
 */
export function planOpenAiResponseFormat(format: OpenAiResponseFormatInput | null | undefined, param = 'response_format'): StructuredOutputPlan | null {
  if (format === null || format === undefined) return null;
  if (!isObject(format)) throw new ToolRequestError(param, `'${param}' must be an object.`);
  switch (format.type) {
    case 'text':
      return null;
    case 'json_object':
      return jsonObjectPlan(param);
    case 'json_schema': {
      const nested = isObject(format.json_schema);
      const spec = (nested ? format.json_schema : format) as OpenAiResponseFormatInput;
      const at = nested ? `${param}.json_schema` : param;
      if (!isObject(spec.schema)) throw new ToolRequestError(`${at}.schema`, `'${at}.schema' must be a JSON Schema object.`);
      return jsonSchemaPlan(spec.schema, param, {
        name: typeof spec.name === 'string' ? spec.name : null,
        description: typeof spec.description === 'string' ? spec.description : null,
        strict: spec.strict === true,
      });
    }
    default:
      throw new ToolRequestError(`${param}.type`, `'${param}.type' must be 'text', 'json_object' or 'json_schema'.`);
  }
}

/** Ollama `format`: `"json"` or a JSON Schema; null for absent or ''. Throws ToolRequestError for anything else. */
export function planOllamaFormat(format: unknown): StructuredOutputPlan | null {
  if (format === null || format === undefined || format === '') return null;
  if (format === 'json') return jsonObjectPlan('format');
  if (isObject(format)) return jsonSchemaPlan(format, 'format', { name: null, description: null, strict: false });
  throw new ToolRequestError('format', `'format' must be "json" or a JSON Schema object.`);
}

/** The user message of the retry after an invalid answer (the invalid answer goes before it as the assistant turn). */
export function structuredOutputRetryMessage(error: string): string {
  return `That answer is not valid: ${error}\nAnswer again with only the corrected JSON.`;
}

/** The error message when the answer still does not validate after the retries. */
export function jsonValidateFailedMessage(error: string, attempts: number): string {
  return `The model's answer did not match the requested JSON format after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${error}`;
}

function jsonObjectPlan(param: string): StructuredOutputPlan {
  return { kind: 'json_object', schema: null, name: null, strict: false, param, instruction: 'Answer with one JSON object and nothing else.', prefill: '{' };
}

function jsonSchemaPlan(schema: JsonSchema, param: string, meta: { name: string | null; description: string | null; strict: boolean }): StructuredOutputPlan {
  const { $schema: _dialect, ...shown } = schema;
  const about = meta.description ? ` (${meta.description})` : '';
  return {
    kind: 'json_schema',
    schema,
    name: meta.name,
    strict: meta.strict,
    param,
    instruction: `Answer with one JSON value${about} and nothing else. It must match this JSON Schema: ${JSON.stringify(shown)}`,
    prefill: rootPrefill(schema),
  };
}

/** `{` for an object root (the usual case, also when `type` is absent), `[` for an array, '' for a scalar or a union. */
function rootPrefill(schema: JsonSchema): string {
  const type = schema.type;
  if (type === 'array') return '[';
  if (type === 'object') return '{';
  if (type === undefined && schema.anyOf === undefined && schema.oneOf === undefined) return '{';
  return '';
}
