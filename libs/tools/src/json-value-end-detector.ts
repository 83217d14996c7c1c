import { isJsonWhitespace } from './json-scanner';

type DetectorState = 'before' | 'container' | 'string' | 'scalar' | 'closed';

/**
 * Tells, in a streamed text, where the top-level JSON value closes, so the generation can stop there
 * (feed the pre-filled `{` first). Reads strings and escapes, so `}` inside a string does not count.
 * Objects, arrays and strings have a visible end; a bare number or literal does not (it never reports one).
 */
export class JsonValueEndDetector {
  private state: DetectorState = 'before';
  private depth = 0;
  private inString = false;
  private escaped = false;

  /** True once the top-level value has closed. */
  get closed(): boolean {
    return this.state === 'closed';
  }

  /** The index in `delta` just past the value's last character, the first time it closes; otherwise null. */
  push(delta: string): number | null {
    for (let i = 0; i < delta.length; i++) {
      if (this.state === 'closed' || this.state === 'scalar') return null;
      const ch = delta[i];
      if (this.state === 'before') {
        if (isJsonWhitespace(ch)) continue;
        if (ch === '{' || ch === '[') {
          this.state = 'container';
          this.depth = 1;
        } else if (ch === '"') {
          this.state = 'string';
        } else {
          this.state = 'scalar';
        }
        continue;
      }
      if (this.state === 'string' || this.inString) {
        if (this.escaped) this.escaped = false;
        else if (ch === '\\') this.escaped = true;
        else if (ch === '"') {
          if (this.state === 'string') return this.close(i);
          this.inString = false;
        }
        continue;
      }
      if (ch === '"') this.inString = true;
      else if (ch === '{' || ch === '[') this.depth++;
      else if ((ch === '}' || ch === ']') && --this.depth === 0) return this.close(i);
    }
    return null;
  }

  private close(index: number): number {
    this.state = 'closed';
    return index + 1;
  }
}
