import { randomBytes } from 'node:crypto';

/** The request fields a response echoes, and its identity. */
export interface ResponseEcho {
  id: string;
  created_at: number;
  model: string;
  instructions: string | null;
  max_output_tokens: number | null;
  metadata: Record<string, string>;
  parallel_tool_calls: boolean;
  temperature: number | null;
  top_p: number | null;
  text: { format: Record<string, unknown> };
  tool_choice: unknown;
  tools: unknown[];
  user: string | null;
}

export interface OutputText {
  type: 'output_text';
  text: string;
  annotations: [];
  logprobs: [];
}

export type OutputItemStatus = 'in_progress' | 'completed' | 'incomplete';

export interface OutputMessage {
  id: string;
  type: 'message';
  status: OutputItemStatus;
  role: 'assistant';
  content: OutputText[];
}

export interface OutputFunctionCall {
  id: string;
  type: 'function_call';
  status: OutputItemStatus;
  call_id: string;
  name: string;
  arguments: string;
}

export type OutputItem = OutputMessage | OutputFunctionCall;

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

/** How a generation ended, in the Responses API's terms. */
export interface ResponseOutcome {
  /** `length` → `incomplete` with reason `max_output_tokens`. */
  finishReason: 'stop' | 'length' | 'tool_calls';
  usage: { promptTokens: number; completionTokens: number };
}

/** A function call the model made (a parsed `<tool_call>`). */
export interface ResponseToolCall {
  /** `call_…`: the `call_id` the client answers with a function_call_output item. */
  id: string;
  name: string;
  /** Compact JSON text of the arguments object. */
  argumentsJson: string;
}

/** The failure of a response that failed after it began (OpenAI's error body → `response.error`). */
export interface ResponseError {
  code: string;
  message: string;
}

/** An id with OpenAI's prefixes (`resp_`, `msg_`, `fc_`) and 48 hex digits. */
export function responseItemId(prefix: 'resp' | 'msg' | 'fc'): string {
  return `${prefix}_${randomBytes(24).toString('hex')}`;
}

export function responseUsage(usage: ResponseOutcome['usage']): ResponseUsage {
  return {
    input_tokens: usage.promptTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: usage.completionTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.promptTokens + usage.completionTokens,
  };
}

export function outputText(text: string): OutputText {
  return { type: 'output_text', text, annotations: [], logprobs: [] };
}

/**
 * The Responses API's `response` object as the official SDK reads it (its `output_text` helper joins
 * the `output_text` parts of the message items). Stateless: `store` is false, `previous_response_id` null.
 */
export function responseObject(
  echo: ResponseEcho,
  state: { status: ResponseStatus; output: OutputItem[]; usage: ResponseUsage | null; error?: ResponseError | null },
) {
  return {
    id: echo.id,
    object: 'response' as const,
    created_at: echo.created_at,
    status: state.status,
    background: false,
    error: state.error ?? null,
    incomplete_details: state.status === 'incomplete' ? { reason: 'max_output_tokens' as const } : null,
    instructions: echo.instructions,
    max_output_tokens: echo.max_output_tokens,
    metadata: echo.metadata,
    model: echo.model,
    output: state.output,
    parallel_tool_calls: echo.parallel_tool_calls,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: echo.temperature,
    text: echo.text,
    tool_choice: echo.tool_choice,
    tools: echo.tools,
    top_p: echo.top_p,
    truncation: 'disabled' as const,
    usage: state.usage,
    user: echo.user,
  };
}

export type ResponseObject = ReturnType<typeof responseObject>;

/** `completed`, or `incomplete` when the output limit cut the answer. */
export function responseStatusOf(outcome: ResponseOutcome): 'completed' | 'incomplete' {
  return outcome.finishReason === 'length' ? 'incomplete' : 'completed';
}
