import type { ModelConfig } from '@qwen/config';
import type { OllamaModuleOptions } from './ollama/ollama.options';

/** Injection token of ChatModule's options (private to libs/chat). */
export const CHAT_OPTIONS = Symbol('CHAT_OPTIONS');

/** ChatModule's slice of the configuration. */
export interface ChatModuleOptions {
  /** The served model's names (ModelCatalog); how long a non-streamed request may be expected to wait (ChatPipeline). */
  model: Pick<ModelConfig, 'id' | 'aliases' | 'acceptAnyModelName' | 'nonStreamedMaxWaitMs'>;
  /** `server.apiKeys`: required as `Authorization: Bearer <key>` on /v1 and /api when not empty. */
  apiKeys: readonly string[];
  /** `chat.jsonRetries`: how often an answer that does not match the requested JSON format is asked again (0–2). */
  structuredOutputRetries: number;
  /** The Ollama dialect's own options. */
  ollama: OllamaModuleOptions;
}
