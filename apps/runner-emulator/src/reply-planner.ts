/**
 * The emulator's deterministic "model": it answers with the ids of the LAST user message of the
 * prompt (so a test can prove an answer belongs to its own request), repeated `repeat` times, then eos.
 * Qwen2.5 ids, constants only: `<|im_start|>` 151644, `user` 872, `assistant` 77091, `\n` 198,
 * `<|im_end|>` 151645. A prompt with no user message (raw text) is echoed.
 * A prompt that ends inside an assistant turn (the service pre-filled its start, e.g. `<tool_call>\n{"name": "`)
 * is continued: when the last user message starts with the pre-filled text, the answer is the rest of it.
 */
import { qwenTextCodec } from './qwen-text-codec';

export const IM_START = 151644;
export const IM_END = 151645;
export const USER = 872;
export const ASSISTANT = 77091;
export const NEWLINE = 198;

/** Text ↔ ids, for a pre-fill that does not end where the message's own ids do (e.g. `{` vs `{"`). */
export interface TextCodec {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}

/**
 * Qwen2.5's single tokens for runs of 1…12 newlines. A message that starts with newlines merges
 * them with the template's `\n` after `user` (e.g. `user\n` + `\n\n` → 872, 1406), so the
 * emulator must give back the run one newline shorter to echo the content exactly.
 */
export const NEWLINE_RUNS = [NEWLINE, 271, 1406, 1022, 14621, 5134, 34583, 5959, 54060, 27352, 82361, 45128];

export function lastUserMessageIds(promptIds: readonly number[]): number[] | null {
  return lastTurnContent(promptIds, USER);
}

/** The ids after the last `<|im_start|>assistant\n` when that turn is still open (the pre-fill), else []. */
export function assistantPrefillIds(promptIds: readonly number[]): number[] {
  const start = promptIds.lastIndexOf(IM_START);
  if (start < 0 || promptIds[start + 1] !== ASSISTANT || promptIds.indexOf(IM_END, start) >= 0) return [];
  return lastTurnContent(promptIds, ASSISTANT) ?? [];
}

function lastTurnContent(promptIds: readonly number[], role: number): number[] | null {
  for (let i = promptIds.length - 2; i >= 0; i--) {
    if (promptIds[i] !== IM_START || promptIds[i + 1] !== role) continue;
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

/**
 * `codec` is only called when the pre-fill's ids are not a prefix of the message's ids (the text
 * may still be: tokens merge differently across the cut), so an emulator never loads a tokenizer
 * for prompts without such a pre-fill.
 */
export function planReply(promptIds: readonly number[], eosId: number, repeat: number, codec: () => TextCodec = qwenTextCodec): number[] {
  const message = continuation(lastUserMessageIds(promptIds) ?? [...promptIds], assistantPrefillIds(promptIds), codec);
  const reply: number[] = [];
  for (let r = 0; r < repeat; r++) reply.push(...message);
  reply.push(eosId);
  return reply;
}

/** The part of `message` after the pre-filled text, when the message starts with it; else the whole message. */
function continuation(message: number[], prefill: readonly number[], codec: () => TextCodec): number[] {
  if (prefill.length === 0) return message;
  if (prefill.every((id, i) => message[i] === id)) return message.slice(prefill.length);
  const tokenizer = codec();
  const text = tokenizer.decode(message);
  const prefilled = tokenizer.decode(prefill);
  return text.startsWith(prefilled) ? tokenizer.encode(text.slice(prefilled.length)) : message;
}
