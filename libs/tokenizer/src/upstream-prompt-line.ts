import type { ChatMessage } from './tokenizer.contract';

/**
 * A pseudo-terminal in canonical mode cuts an input line at 4095 bytes (the newline included);
 * we stay well below it.
 */
export const UPSTREAM_LINE_MAX_BYTES = 4000;

/**
 * UPSTREAM MODE ONLY. The upstream tokenizer (qwen2.5_tokenizer.py) cannot register anything: the
 * runner sends it the one line typed into its terminal, and it wraps that line as the only user
 * message after its fixed system prompt. So in that mode — and only there — the text the model
 * sees has to be typed into the runner. This makes that line as safe as it can be:
 * - only the LAST user message is used (system prompts and history cannot reach the model);
 * - newlines, tabs and other separators become spaces (a newline would start a second turn);
 * - control characters (C0, DEL, C1) are removed: in canonical mode ^C, ^D, ^U, ^W, ^V, DEL… would
 *   act on the terminal instead of being text;
 * - it is truncated (at a character boundary) below the terminal's 4095-byte line limit;
 * - it is never exactly `q` (which quits the runner) and never empty (which the runner ignores).
 * The result is lossy by design; the supervisor reports these limitations in its snapshot.
 */
export function upstreamPromptLine(source: { messages?: ChatMessage[]; prompt?: string }): string {
  const text = source.prompt ?? lastUserContent(source.messages ?? []);
  let line = text
    .replace(/[\r\n\t\v\f\u0085\u2028\u2029]+/g, ' ')
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    .replace(/ {2,}/g, ' ')
    .trim();
  line = truncateUtf8(line, UPSTREAM_LINE_MAX_BYTES).trimEnd();
  if (line === '') return '?';
  if (line === 'q') return 'q ';
  return line;
}

function lastUserContent(messages: ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].role === 'user') return messages[i].content;
  }
  return messages.length ? messages[messages.length - 1].content : '';
}

/** The longest prefix of `text` whose UTF-8 encoding fits in `maxBytes`, never splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char, 'utf8');
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end);
}
