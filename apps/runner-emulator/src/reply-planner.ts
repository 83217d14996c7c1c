/**
 * The emulator's deterministic "model": it answers with the ids of the LAST user message of the
 * prompt (so a test can prove an answer belongs to its own request), repeated `repeat` times, then eos.
 * Qwen2.5 ids, constants only: `<|im_start|>` 151644, `user` 872, `\n` 198, `<|im_end|>` 151645.
 * A prompt with no user message (raw text) is echoed.
 */
export const IM_START = 151644;
export const IM_END = 151645;
export const USER = 872;
export const NEWLINE = 198;

/**
 * Qwen2.5's single tokens for runs of 1…12 newlines. A message that starts with newlines merges
 * them with the template's `\n` after `user` (e.g. `user\n` + `\n\n` → 872, 1406), so the
 * emulator must give back the run one newline shorter to echo the content exactly.
 */
export const NEWLINE_RUNS = [NEWLINE, 271, 1406, 1022, 14621, 5134, 34583, 5959, 54060, 27352, 82361, 45128];

export function lastUserMessageIds(promptIds: readonly number[]): number[] | null {
  for (let i = promptIds.length - 2; i >= 0; i--) {
    if (promptIds[i] !== IM_START || promptIds[i + 1] !== USER) continue;
    const run = NEWLINE_RUNS.indexOf(promptIds[i + 2]);
    if (run < 0) continue;
    const start = i + 3;
    const end = promptIds.indexOf(IM_END, start);
    const content = promptIds.slice(start, end < 0 ? promptIds.length : end);
    // run = newlines in the merged token beyond the template's own one.
    return run === 0 ? content : [NEWLINE_RUNS[run - 1], ...content];
  }
  return null;
}

export function planReply(promptIds: readonly number[], eosId: number, repeat: number): number[] {
  const message = lastUserMessageIds(promptIds) ?? [...promptIds];
  const reply: number[] = [];
  for (let r = 0; r < repeat; r++) reply.push(...message);
  reply.push(eosId);
  return reply;
}
