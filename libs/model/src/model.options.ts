import type { ModelConfig, PathsConfig, SamplingConfig, TokenizerConfig } from '@qwen/config';

/** Injection token of ModelModule's options. */
export const MODEL_OPTIONS = Symbol('MODEL_OPTIONS');

export interface ModelModuleOptions {
  model: ModelConfig;
  paths: PathsConfig;
  /** The runner's sampling; absent: the model repository's own post_config.json. */
  sampling?: SamplingConfig;
  /** Where our tokenizer server listens (the runner is given http://host:port). */
  tokenizer: Pick<TokenizerConfig, 'host' | 'port'>;
  /** Extra environment for the runner process (e.g. the emulator's settings in tests). */
  runnerEnv?: Record<string, string>;
}
