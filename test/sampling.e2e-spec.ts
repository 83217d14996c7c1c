/**
 * Sampling from our configuration (issue 14 item 5): the runner is started in a directory of the
 * service's own with a generated post_config.json and absolute model paths; what the runner printed
 * at load is what the service reports. Real service, tokenizer process and runner emulator.
 * Requires `npm run build`.
 */
import { startTestService, TestService } from '@qwen/testing';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

jest.setTimeout(60000);

describe('sampling set in our configuration', () => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService({
      configure: (config) => {
        config.sampling = { ...config.sampling, source: 'config', enableTemperature: true, temperature: 0.25, enableTopK: false, topK: 1 };
      },
    });
  });
  afterAll(() => service?.close());

  it('is what the runner loaded and what the service reports', async () => {
    const expected = { enable_temperature: true, temperature: 0.25, enable_top_k_sampling: false, top_k: 1 };
    expect(service.model.snapshot().sampling).toMatchObject(expected);
    const health = (await (await fetch(`${service.url}/health`)).json()) as { details: { model: { sampling: Record<string, unknown> } } };
    expect(health.details.model.sampling).toMatchObject(expected);
    const show = await fetch(`${service.url}/api/show`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'qwen2.5' }) });
    expect(show.status).toBe(200);
    // Ollama's Modelfile parameters list the settings in force: temperature on, top-k off.
    const parameters = ((await show.json()) as { parameters: string }).parameters;
    expect(parameters).toMatch(/^temperature\s+0\.25$/m);
    expect(parameters).not.toMatch(/^top_k/m);
  });

  it('leaves the model repository untouched: the file is written in the run directory', () => {
    const runDir = service.config.paths.runDir;
    expect(JSON.parse(readFileSync(join(runDir, 'runner', 'post_config.json'), 'utf8'))).toMatchObject({ temperature: 0.25 });
    const own = join(service.config.paths.modelDir, 'post_config.json');
    if (existsSync(own)) expect(JSON.parse(readFileSync(own, 'utf8'))).toMatchObject({ temperature: 0.9 });
  });
});
