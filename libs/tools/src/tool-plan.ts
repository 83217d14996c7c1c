import { normalizeToolChoice, normalizeToolDeclarations, type ToolChoice, type ToolChoiceInput, type ToolDeclarationInput, type ToolSpec } from './tool-spec';

/** The closing tag Qwen2.5 writes after each call; the stop sequence when at most one call is wanted. */
export const TOOL_CALL_CLOSE_TAG = '</tool_call>';
export const TOOL_CALL_OPEN_TAG = '<tool_call>';

/** How a request's tools shape the prompt and the generation. */
export interface ToolPlan {
  /** Tools to render in the template's `<tools>` block ([] = no block; `tool_choice: "none"`). */
  offeredTools: ToolSpec[];
  /** Names a parsed call may use ([] for `none`: OpenAI never answers tool calls then). */
  declaredNames: string[];
  choice: ToolChoice;
  /** Text the assistant turn starts with (after `<|im_start|>assistant\n`), or null. Feed it to the parser first. */
  prefill: string | null;
  /** Extra stop sequences for the generation. */
  stopSequences: string[];
}

/**
 * The assistant-turn opening that forces a call: `required` → `<tool_call>\n{"name": "` (the model picks
 * the name); a named function → the name filled and `"arguments": ` open. Null for `none`/`auto`.
 * The text is exactly what the chat template renders for a past call, so the model continues its own format.
 */
export function toolChoicePrefill(choice: ToolChoice): string | null {
  switch (choice.mode) {
    case 'required':
      return `${TOOL_CALL_OPEN_TAG}\n{"name": "`;
    case 'function':
      return `${TOOL_CALL_OPEN_TAG}\n{"name": ${JSON.stringify(choice.name)}, "arguments": `;
    default:
      return null;
  }
}

/**
 * Stop at the first `</tool_call>` when only one call is wanted (`parallel_tool_calls: false`) or when
 * the call is forced (`required`, a named function): the rest would be discarded anyway.
 */
export function toolCallStopSequences(choice: ToolChoice, parallelToolCalls: boolean): string[] {
  if (choice.mode === 'none') return [];
  if (choice.mode === 'required' || choice.mode === 'function' || !parallelToolCalls) return [TOOL_CALL_CLOSE_TAG];
  return [];
}

/** OpenAI Chat Completions / Responses request fields, as received. */
export interface OpenAiToolsInput {
  tools?: readonly ToolDeclarationInput[] | null;
  tool_choice?: ToolChoiceInput;
  parallel_tool_calls?: boolean | null;
}

/** Plan for an OpenAI request; null when it declares no tools (and no tool_choice that needs them). Throws ToolRequestError. */
export function planOpenAiTools(input: OpenAiToolsInput): ToolPlan | null {
  const tools = normalizeToolDeclarations(input.tools);
  const choice = normalizeToolChoice(input.tool_choice, tools);
  if (tools.length === 0) return null;
  return plan(tools, choice, input.parallel_tool_calls ?? true);
}

/** Plan for an Ollama /api/chat request (no tool_choice in Ollama: `auto`, parallel calls allowed). Throws ToolRequestError. */
export function planOllamaTools(tools: readonly ToolDeclarationInput[] | null | undefined): ToolPlan | null {
  const specs = normalizeToolDeclarations(tools);
  if (specs.length === 0) return null;
  return plan(specs, { mode: 'auto' }, true);
}

function plan(tools: ToolSpec[], choice: ToolChoice, parallelToolCalls: boolean): ToolPlan {
  const offeredTools = choice.mode === 'none' ? [] : tools;
  return {
    offeredTools,
    declaredNames: offeredTools.map((tool) => tool.name),
    choice,
    prefill: toolChoicePrefill(choice),
    stopSequences: toolCallStopSequences(choice, parallelToolCalls),
  };
}
