/**
 * Formats the runner's sampling settings (post_config.json as the runner printed it at load) for
 * the `X-Qwen-Sampling` header: only the settings in effect, e.g. `temperature=0.9; top_k=10`.
 * `greedy` when nothing is enabled or the file was missing; `unknown` before the first load.
 */
export function formatSampling(sampling: Record<string, unknown> | null): string {
  if (!sampling) return 'unknown';
  if (sampling.greedy === true) return 'greedy';
  const enabled = (flag: string): boolean => sampling[flag] !== false;
  const parts: string[] = [];
  const add = (key: string, on: boolean): void => {
    const value = sampling[key];
    if (on && (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean')) parts.push(`${key}=${value}`);
  };
  add('temperature', enabled('enable_temperature'));
  add('top_k', enabled('enable_top_k_sampling'));
  add('top_p', enabled('enable_top_p_sampling'));
  const penalty = enabled('enable_repetition_penalty');
  add('repetition_penalty', penalty);
  add('penalty_window', penalty);
  for (const key of Object.keys(sampling).sort()) {
    if (key.startsWith('enable_') || parts.some((p) => p.startsWith(`${key}=`))) continue;
    if (['temperature', 'top_k', 'top_p', 'repetition_penalty', 'penalty_window'].includes(key)) continue;
    add(key, true);
  }
  return parts.length ? parts.join('; ') : 'greedy';
}
