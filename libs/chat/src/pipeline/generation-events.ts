import type { GenerationEvent } from '@qwen/model';

/** The `start` event of ModelService.generate(). */
export type StartEvent = Extract<GenerationEvent, { type: 'start' }>;
/** The `progress` event of ModelService.generate() (waiting in the queue, prompt being fed). */
export type ProgressEvent = Extract<GenerationEvent, { type: 'progress' }>;
/** The `done` event of ModelService.generate(). */
export type DoneEvent = Extract<GenerationEvent, { type: 'done' }>;
