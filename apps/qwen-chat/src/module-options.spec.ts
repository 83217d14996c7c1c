import { findInstallRoot, loadAppConfig } from '@qwen/config';
import { join } from 'node:path';
import { moduleOptionsOf } from './module-options';

describe(moduleOptionsOf.name, () => {
  const root = findInstallRoot(__dirname);
  const config = loadAppConfig({ env: { QWEN_TOKENIZER_PORT: '23456', QWEN_QUEUE_MAX: '3' }, cwd: root, defaultsFile: join(root, 'config', 'default.yaml') });

  it('gives the model its sections, only the address of the tokenizer, and the extras', () => {
    const { model } = moduleOptionsOf(config, { runnerEnv: { QWEN_EMU_LOAD_MS: '0' } });
    expect(model.model.queueMaxLength).toBe(3);
    expect(model.paths).toBe(config.paths);
    expect(model.tokenizer).toEqual({ host: '127.0.0.1', port: 23456 });
    expect(model.runnerEnv).toEqual({ QWEN_EMU_LOAD_MS: '0' });
  });

  it('gives the tokenizer, chat and health their slices', () => {
    const options = moduleOptionsOf(config);
    expect(options.tokenizer).toEqual({ tokenizer: config.tokenizer, paths: config.paths });
    expect(options.chat).toEqual({
      model: config.model,
      apiKeys: [],
      ollama: { modelDir: config.paths.modelDir, bodyLimit: '1mb', version: config.chat.ollamaVersion },
      structuredOutputRetries: config.chat.jsonRetries,
    });
    expect(options.health).toEqual({ npu: config.npu });
  });
});
