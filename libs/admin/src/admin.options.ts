import type { AppConfig } from '@qwen/config';
import type { ModelModuleOptions } from '@qwen/model';
import type { TokenizerModuleOptions } from '@qwen/tokenizer';

/** Injection token of AdminModule's options (private to libs/admin). */
export const ADMIN_OPTIONS = Symbol('ADMIN_OPTIONS');

/** The options of the restarted dependencies, built from a configuration. */
export interface ReloadedOptions {
  model: ModelModuleOptions;
  tokenizer: TokenizerModuleOptions;
}

export interface AdminModuleOptions {
  /**
   * Builds the model's and the tokenizer's options from the configuration POST /admin/reload has
   * just re-read into the ConfigStore — the same function the app used at start-up, so a reload
   * starts them exactly as a fresh start with that configuration would.
   */
  reloadOptions(config: AppConfig): ReloadedOptions;
}
