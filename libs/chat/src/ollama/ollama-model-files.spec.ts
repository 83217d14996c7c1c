import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OllamaModelFiles } from './ollama-model-files';

describe(OllamaModelFiles.name, () => {
  let dir: string;
  const files = new OllamaModelFiles();

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ollama-files-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('sums the sizes of the model files the runner loads and takes the newest modification time', async () => {
    const weights = join(dir, 'qwen2.5-1.5b-gptq-int4-ax650');
    mkdirSync(join(weights, 'nested'), { recursive: true });
    writeFileSync(join(weights, 'notes.txt'), Buffer.alloc(50)); // not a model file
    writeFileSync(join(weights, 'qwen2_p128_l0_together.axmodel'), Buffer.alloc(1000));
    writeFileSync(join(weights, 'qwen2_post.axmodel'), Buffer.alloc(234));
    utimesSync(join(weights, 'qwen2_post.axmodel'), new Date('2025-04-01T00:00:00Z'), new Date('2025-04-01T00:00:00Z'));
    utimesSync(join(weights, 'qwen2_p128_l0_together.axmodel'), new Date('2025-03-01T00:00:00Z'), new Date('2025-03-01T00:00:00Z'));
    writeFileSync(join(dir, 'post_config.json'), '{}'); // not a weight file
    expect(await files.weights(dir)).toEqual({ size: 1234, modifiedAt: new Date('2025-04-01T00:00:00Z') });
  });

  it('reports 0 bytes and no date when the weights are absent', async () => {
    expect(await files.weights(dir)).toEqual({ size: 0, modifiedAt: null });
    expect(await files.weights(null)).toEqual({ size: 0, modifiedAt: null });
  });

  it("reads the chat template from the model directory's tokenizer folder, else from the bundled package", async () => {
    const tokenizer = join(dir, 'qwen2.5_tokenizer');
    mkdirSync(tokenizer);
    writeFileSync(join(tokenizer, 'tokenizer.json'), '{}');
    writeFileSync(join(tokenizer, 'tokenizer_config.json'), JSON.stringify({ chat_template: '{{ messages }}' }));
    expect(await files.chatTemplate(dir)).toBe('{{ messages }}');
    const bundled = await files.chatTemplate(null);
    expect(bundled).toContain('<|im_start|>');
    expect(bundled).toContain('You are Qwen, created by Alibaba Cloud. You are a helpful assistant.');
  });
});
