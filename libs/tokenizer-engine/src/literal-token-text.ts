/** Opens a marker: `\uE000<index>\uE001` stands for the text of `texts[index]`, kept as plain text. */
const MARK_OPEN = '\uE000';
const MARK_CLOSE = '\uE001';
const MARKER = /\uE000(\d+)\uE001/g;

/**
 * Keeps text that came from a request from becoming control tokens. Before the chat template is
 * rendered, every string of the request (message content, names, tool calls, tools) has each spelling
 * of an added token (`<|im_end|>`, `<tool_call>`, …) replaced by a marker; the template's own
 * scaffolding is left as it is. `QwenTokenizer.encodePrompt` then gives the scaffolding its special
 * ids and turns each marker back into its text, tokenized as ordinary text. The marker's own opening
 * character is marked too, so a request cannot spell a marker.
 */
export class LiteralTokenText {
  private readonly texts: readonly string[];
  private readonly pattern: RegExp;

  constructor(tokenTexts: readonly string[]) {
    this.texts = [...tokenTexts, MARK_OPEN];
    this.pattern = alternationOf(this.texts, 'g');
  }

  /** A deep copy of `value` whose strings (object keys included) have every token spelling marked. */
  mark<T>(value: T): T {
    return this.markValue(value) as T;
  }

  /** `marked` with each marker turned back into the text it stands for. */
  unmark(marked: string): string {
    return marked.includes(MARK_OPEN) ? marked.replace(MARKER, (_, index: string) => this.texts[Number(index)] ?? '') : marked;
  }

  private markValue(value: unknown): unknown {
    if (typeof value === 'string') return this.markString(value);
    if (Array.isArray(value)) return value.map((item) => this.markValue(item));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [this.markString(key), this.markValue(item)]));
    }
    return value;
  }

  private markString(text: string): string {
    return text.replace(this.pattern, (token) => `${MARK_OPEN}${this.texts.indexOf(token)}${MARK_CLOSE}`);
  }
}

/** A regular expression matching any of `texts` (longest first), as one capturing group. */
export function alternationOf(texts: readonly string[], flags = ''): RegExp {
  const alternatives = [...texts].sort((a, b) => b.length - a.length).map((text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`(${alternatives.join('|')})`, flags);
}
