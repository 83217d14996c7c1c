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

export function lastUserMessageIds(promptIds: readonly number[]): number[] | null {
  for (let i = promptIds.length - 3; i >= 0; i--) {
    if (promptIds[i] === IM_START && promptIds[i + 1] === USER && promptIds[i + 2] === NEWLINE) {
      const start = i + 3;
      const end = promptIds.indexOf(IM_END, start);
      return promptIds.slice(start, end < 0 ? promptIds.length : end);
    }
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
