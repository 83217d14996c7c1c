import { isObject } from './json-scanner';
import { ToolRequestError } from './tool-request-error';

/** A JSON Schema as clients send it (parameters of a tool, a response format's schema). */
export type JsonSchema = Record<string, unknown>;

/** One function the model may call, whichever API declared it. */
export interface ToolSpec {
  name: string;
  description?: string;
  /** JSON Schema of the arguments object. */
  parameters: JsonSchema;
}

/** What the client allows or demands; `function` = this one function must be called. */
export type ToolChoice = { mode: 'none' } | { mode: 'auto' } | { mode: 'required' } | { mode: 'function'; name: string };

/**
 * A declared tool as OpenAI Chat Completions and Ollama send it (`{type, function: {…}}`) or as the
 * Responses API sends it (flat `{type, name, …}`). Loosely typed: these helpers check it themselves.
 */
export interface ToolDeclarationInput {
  type?: unknown;
  function?: unknown;
  name?: unknown;
  description?: unknown;
  parameters?: unknown;
}

/** OpenAI `tool_choice` (Chat Completions `{type, function: {name}}` or Responses `{type, name}`). */
export type ToolChoiceInput = string | { type?: unknown; function?: unknown; name?: unknown } | null | undefined;

const EMPTY_PARAMETERS: JsonSchema = { type: 'object', properties: {} };

/**
 * Declared tools (OpenAI Chat Completions, Responses or Ollama shapes) → ToolSpec[].
 * Throws ToolRequestError for a non-function tool, a missing name, non-object parameters or a duplicate name.
 */
export function normalizeToolDeclarations(tools: readonly ToolDeclarationInput[] | null | undefined, param = 'tools'): ToolSpec[] {
  if (tools === null || tools === undefined) return [];
  if (!Array.isArray(tools)) throw new ToolRequestError(param, `'${param}' must be an array of function tools.`);
  const seen = new Set<string>();
  return tools.map((tool, index) => {
    const at = `${param}[${index}]`;
    if (!isObject(tool)) throw new ToolRequestError(at, `'${at}' must be an object.`);
    const type = tool.type ?? 'function';
    if (type !== 'function') throw new ToolRequestError(`${at}.type`, `Only function tools are supported; '${at}.type' is '${String(type)}'.`);
    const nested = isObject(tool.function);
    const declaration = nested ? (tool.function as ToolDeclarationInput) : tool;
    const fieldAt = nested ? `${at}.function` : at;
    const { name, description, parameters } = declaration;
    if (typeof name !== 'string' || name.trim() === '') throw new ToolRequestError(`${fieldAt}.name`, `'${fieldAt}.name' must be a non-empty string.`);
    if (seen.has(name)) throw new ToolRequestError(`${fieldAt}.name`, `Tool '${name}' is declared twice.`);
    seen.add(name);
    if (parameters !== undefined && parameters !== null && !isObject(parameters)) {
      throw new ToolRequestError(`${fieldAt}.parameters`, `'${fieldAt}.parameters' must be a JSON Schema object.`);
    }
    const spec: ToolSpec = { name, parameters: (parameters as JsonSchema | null | undefined) ?? EMPTY_PARAMETERS };
    if (typeof description === 'string' && description !== '') spec.description = description;
    return spec;
  });
}

/**
 * OpenAI `tool_choice` → ToolChoice. Absent = `auto` when tools exist, else `none` (OpenAI's defaults).
 * Throws ToolRequestError for an unknown value, `required`/a function without tools, or an undeclared function.
 */
export function normalizeToolChoice(choice: ToolChoiceInput, tools: readonly ToolSpec[], param = 'tool_choice'): ToolChoice {
  if (choice === null || choice === undefined) return tools.length > 0 ? { mode: 'auto' } : { mode: 'none' };
  if (choice === 'none' || choice === 'auto') return { mode: choice };
  if (choice === 'required') {
    if (tools.length === 0) throw new ToolRequestError(param, `'${param}' is 'required' but no tools are declared.`);
    return { mode: 'required' };
  }
  if (isObject(choice) && choice.type === 'function') {
    const name = isObject(choice.function) ? (choice.function as { name?: unknown }).name : choice.name;
    if (typeof name !== 'string' || name === '') throw new ToolRequestError(param, `'${param}' names no function.`);
    if (!tools.some((tool) => tool.name === name)) {
      throw new ToolRequestError(param, `'${param}' names the function '${name}', which is not among the declared tools.`);
    }
    return { mode: 'function', name };
  }
  throw new ToolRequestError(param, `'${param}' must be 'none', 'auto', 'required' or {"type": "function", "function": {"name": …}}.`);
}

/** The tools as Qwen2.5's chat template expects them in `tools` (OpenAI shape; no undefined fields, which jinja would print as null). */
export function toTemplateTools(tools: readonly ToolSpec[]): TemplateTool[] {
  return tools.map((tool) => ({
    type: 'function',
    function: tool.description === undefined
      ? { name: tool.name, parameters: tool.parameters }
      : { name: tool.name, description: tool.description, parameters: tool.parameters },
  }));
}

/** One entry of the template's `tools` variable. */
export interface TemplateTool {
  type: 'function';
  function: { name: string; description?: string; parameters: JsonSchema };
}
