import { formatSampling } from './sampling-header';

describe(formatSampling.name, () => {
  it('lists only the enabled settings of post_config.json', () => {
    expect(
      formatSampling({
        enable_repetition_penalty: false,
        enable_temperature: true,
        enable_top_k_sampling: true,
        enable_top_p_sampling: false,
        penalty_window: 20,
        repetition_penalty: 1.2,
        temperature: 0.9,
        top_k: 10,
        top_p: 0.8,
      }),
    ).toBe('temperature=0.9; top_k=10');
  });

  it('includes the repetition penalty and its window when enabled', () => {
    expect(formatSampling({ enable_temperature: false, temperature: 1, enable_repetition_penalty: true, repetition_penalty: 1.1, penalty_window: 32 })).toBe(
      'repetition_penalty=1.1; penalty_window=32',
    );
  });

  it('says greedy without a config or with nothing enabled, unknown before the first load', () => {
    expect(formatSampling({ greedy: true })).toBe('greedy');
    expect(formatSampling({ enable_temperature: false, temperature: 0.5 })).toBe('greedy');
    expect(formatSampling(null)).toBe('unknown');
  });
});
