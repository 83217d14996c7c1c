import type { RequestClock } from '@qwen/http';
import { ModelCatalog, UnknownModelError } from './model-catalog';

describe(ModelCatalog.name, () => {
  const clock = { now: () => 1_700_000_000_500, newRequestId: () => 'x' } as RequestClock;
  const make = (acceptAnyModelName: boolean) =>
    new ModelCatalog({ model: { id: 'qwen2.5', aliases: ['Qwen/Qwen2.5-1.5B-Instruct'], acceptAnyModelName, nonStreamedMaxWaitMs: 60000 }, apiKeys: [], structuredOutputRetries: 1, ollama: { modelDir: null, bodyLimit: '1mb', version: '0.6.4' } }, clock);

  it('maps the id and the aliases to the id', () => {
    const catalog = make(false);
    expect(catalog.resolve('qwen2.5')).toBe('qwen2.5');
    expect(catalog.resolve('Qwen/Qwen2.5-1.5B-Instruct')).toBe('qwen2.5');
    expect(catalog.model).toEqual({ id: 'qwen2.5', aliases: ['Qwen/Qwen2.5-1.5B-Instruct'], created: 1_700_000_000 });
  });

  it('refuses an unknown name when any-name is off', () => {
    expect(() => make(false).resolve('gpt-4o')).toThrow(UnknownModelError);
    expect(() => make(false).resolve('QWEN2.5')).toThrow("The model 'QWEN2.5' does not exist");
  });

  it('serves any name with the configured id when any-name is on', () => {
    const catalog = make(true);
    expect(catalog.resolve('gpt-4o')).toBe('qwen2.5');
    expect(catalog.isKnown('gpt-4o')).toBe(false);
  });
});
