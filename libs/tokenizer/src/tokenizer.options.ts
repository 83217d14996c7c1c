import type { PathsConfig, TokenizerConfig } from '@qwen/config';

/** Injection token of TokenizerModule's options. */
export const TOKENIZER_OPTIONS = Symbol('TOKENIZER_OPTIONS');

export interface TokenizerModuleOptions {
  tokenizer: TokenizerConfig;
  paths: PathsConfig;
}
