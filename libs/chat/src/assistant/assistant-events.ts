import type { GenerationEvent } from '@qwen/model';
import type { ParsedToolCall, StructuredOutputPlan, ToolPlan } from '@qwen/tools';

/**
 * How one request wants its answer shaped: tool calling (what is offered, forced, where to stop) and
 * structured output (JSON asked for, pre-filled, validated). Both null = plain text.
 */
export interface AnswerPlan {
  tools: ToolPlan | null;
  structured: StructuredOutputPlan | null;
}

/** The plan of a plain-text answer. */
export const PLAIN_ANSWER: AnswerPlan = { tools: null, structured: null };

type ModelDone = Extract<GenerationEvent, { type: 'done' }>;

/** Why an answer ended: the model's reasons, or `tool_calls` when it called at least one tool. */
export type AnswerFinishReason = ModelDone['finishReason'] | 'tool_calls';

/** The last event of a shaped answer. */
export interface AnswerDoneEvent extends Omit<ModelDone, 'finishReason'> {
  type: 'done';
  finishReason: AnswerFinishReason;
  /** Every call the model made, in order (also emitted one by one as `tool-call`). */
  toolCalls: ParsedToolCall[];
  /** Generations it took (2 when a structured answer was retried once). */
  attempts: number;
}

/**
 * What AssistantTurn emits: the model's `start` (and any other event it does not shape, such as
 * progress, passed through as is), the answer's text, each tool call once complete, then `done`.
 * Concatenated, the `text` events are the answer's content (a JSON answer includes its pre-filled
 * opening brace; text of a tool call never appears).
 */
export type AnswerEvent =
  | Exclude<GenerationEvent, { type: 'delta' } | { type: 'done' }>
  | { type: 'text'; text: string }
  | { type: 'tool-call'; index: number; call: ParsedToolCall }
  | AnswerDoneEvent;

/** The model's `start` event. */
export type AnswerStartEvent = Extract<GenerationEvent, { type: 'start' }>;
