/** How far a JSON value starting at a given index goes, reading strings and escapes correctly. */
export type JsonScan = { kind: 'complete'; end: number } | { kind: 'incomplete' };

/**
 * Scans the object or array that opens at `text[start]` (`{` or `[`) and returns the index just past
 * its closing bracket, or `incomplete` when the text ends first. Brackets inside strings do not count.
 * It only balances brackets: whether the value is valid JSON is left to `JSON.parse`.
 */
export function scanJsonContainer(text: string, start: number): JsonScan {
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') {
      depth--;
      if (depth === 0) return { kind: 'complete', end: i + 1 };
    }
  }
  return { kind: 'incomplete' };
}

/** Index of the first character at or after `from` that is not JSON whitespace (text.length if none). */
export function skipWhitespace(text: string, from: number): number {
  let i = from;
  while (i < text.length && isJsonWhitespace(text[i])) i++;
  return i;
}

export function isJsonWhitespace(ch: string): boolean {
  return ch === ' ' || ch === '\n' || ch === '\r' || ch === '\t';
}

/** A plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
