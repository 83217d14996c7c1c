import type { GenerationEvent } from '@qwen/model';

/** The `start` event of ModelService.generate(). */
export type StartEvent = Extract<GenerationEvent, { type: 'start' }>;
/** The `done` event of ModelService.generate(). */
export type DoneEvent = Extract<GenerationEvent, { type: 'done' }>;
