export { ChatModule } from './chat.module';
export type { ChatModuleOptions } from './chat.options';
export type { OllamaModuleOptions } from './ollama/ollama.options';
export { AssistantTurn } from './assistant/assistant-turn';
export type { AnswerDelivery } from './assistant/assistant-turn';
export { PLAIN_ANSWER } from './assistant/assistant-events';
export type { AnswerDoneEvent, AnswerEvent, AnswerFinishReason, AnswerPlan, AnswerStartEvent } from './assistant/assistant-events';
export { StructuredOutputError } from './assistant/structured-output-error';
