import type { ModelConfig, ServerConfig } from '@qwen/config';

/** Injection token of ChatModule's options. */
export const CHAT_OPTIONS = Symbol('CHAT_OPTIONS');

/** ChatModule's slice of the configuration (the AppConfig sections can be passed as they are). */
export interface ChatModuleOptions {
  /** The served model's names. */
  model: Pick<ModelConfig, 'id' | 'aliases' | 'acceptAnyModelName'>;
  /** API keys (OpenAI dialect) and CORS allow-list. */
  server: Pick<ServerConfig, 'apiKeys' | 'corsOrigins'>;
}
