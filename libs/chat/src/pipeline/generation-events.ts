import type { GenerationEvent } from '@qwen/model';
import type { AnswerDoneEvent } from '../assistant/assistant-events';

/** The `start` event of ModelService.generate(). */
export type StartEvent = Extract<GenerationEvent, { type: 'start' }>;
/** The `progress` event of ModelService.generate() (waiting in the queue, prompt being fed). */
export type ProgressEvent = Extract<GenerationEvent, { type: 'progress' }>;
/** The last event of a shaped answer (AssistantTurn): the model's `done` plus the tool calls made. */
export type DoneEvent = AnswerDoneEvent;
