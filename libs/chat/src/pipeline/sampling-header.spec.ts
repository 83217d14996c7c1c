import { UPSTREAM_POST_CONFIG } from '../../../../test/fixtures/runner-output';
import { formatSampling } from './sampling-header';

describe(formatSampling.name, () => {
  it('lists only the enabled settings of post_config.json', () => {
    expect(
      formatSampling(UPSTREAM_POST_CONFIG),
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
