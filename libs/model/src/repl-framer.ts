/**
 * ReplFramer: the one owner of the runner's terminal protocol (see ../shared/runner-protocol.md
 * and docs/architecture.md, "Byte-level facts").
 *
 * A state machine over the pty OUTPUT (strings as decoded from the pty, cut anywhere):
 *
 *   loading ──(">> " after "LLM init ok" / the `Type "q"` line)──► ready ──beginTurn()──► turn
 *      ▲                                                             ▲                    │
 *   reset()                                                  ">> "   │      footer record │
 *                                                                 after-footer ◄──────────┘
 *
 * What only the runner can print is recognised by the escape codes it starts with: a log record
 * `ESC[1;30;3Xm[L][fn][line]: text ESC[0m`, a progress redraw `ESC[1;30;33m\r … ESC[1;30;32m step ESC[0m`.
 * Model text never carries ESC (the tokenizer server scrubs control characters), so during a turn
 * everything that is not inside such a record is model text — however much it looks like `>> `,
 * `hit eos` or a log line. `>> ` is only the prompt OUTSIDE a turn, at a line start.
 *
 * Turn text is emitted as soon as it is unambiguous. Held back only: up to two trailing `\n`
 * (they may be the `\n\n` the runner prints before its footer), a trailing `\r` (may be half of
 * `\r\n`), a trailing high surrogate, and an incomplete escape sequence. The typed line echoed by a
 * terminal that still echoes is dropped at the start of a turn; `\r\n` becomes `\n`.
 *
 * Work per push is O(chunk): only a few characters are ever re-examined.
 */

export type LogLevel = 'I' | 'N' | 'W' | 'E';

export type FramerState = 'loading' | 'ready' | 'turn' | 'after-footer';

export type FramerEvent =
  /** A coloured log record (may span lines, e.g. the `load config:` record). `text` excludes the header. */
  | { type: 'log'; level: LogLevel; fn: string; line: number; text: string }
  /** A redraw of the load progress bar. */
  | { type: 'progress'; step: number; total: number; text: string }
  | { type: 'max-token-len'; value: number }
  /** The post_config.json the runner loaded (sampling settings). */
  | { type: 'post-config'; config: Record<string, unknown> }
  /** post_config.json missing or unreadable: the runner decodes greedily. */
  | { type: 'post-config-missing'; text: string }
  | { type: 'init-ok' }
  /** The runner shows `>> ` and waits for a line. */
  | { type: 'ready' }
  /** Model text of the current turn (in order; concatenated it is exactly what the model said). */
  | { type: 'text'; text: string }
  /** The end-of-turn record `[N]…hit eos,avg X token/s` (printed whatever ended the turn). */
  | { type: 'footer'; tokensPerSecond: number | null }
  /** Any other non-empty output line outside a turn (banner, `bos_id: …`, …), colour codes removed. */
  | { type: 'line'; text: string }
  /**
   * A `[YYYY-MM-DD HH:MM:SS.mmm][pid][W][device manager]…device N is dead` line. During a turn the
   * line is ALSO part of the text (model text could imitate it): the caller decides, e.g. by silence.
   */
  | { type: 'device-dead-suspected'; line: string };

const ESC = '\x1b';
const RESET = '\x1b[0m';
const PROMPT = '>> ';
/** Up to two `\n` directly before the footer record are the runner's, not the model's. */
const FOOTER_NEWLINES = 2;
/** Bounds for output that never terminates (a runner gone mad must not eat memory). */
const MAX_RECORD_CHARS = 65536;
const MAX_LINE_CHARS = 4096;
const MAX_CSI_CHARS = 32;
/** The tail of the current turn line kept to spot a device-dead line. */
const TRACKED_LINE_CHARS = 512;

const RECORD_HEADER = /^\[([INWE])\]\[([^\]\n]*)\]\[\s*(\d+)\s*\]:? ?/;
const DEVICE_DEAD = /\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}\]\[\d+\]\[W\]\[device manager\].*device \d+ is dead/;
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]/g;

/** What an escape sequence at some position turned out to be. */
type EscapeKind =
  | { kind: 'need-more' }
  /** `ESC[1;30;3Xm` + `[L][`: a log record; `bodyStart` points at `[L]`. */
  | { kind: 'record'; bodyStart: number }
  /** `ESC[1;30;33m\r`: a progress redraw; `bodyStart` is after the `\r`. */
  | { kind: 'progress'; bodyStart: number }
  /** Any other escape sequence (dropped); `end` is after it. */
  | { kind: 'other'; end: number };

type Unit = 'none' | 'record' | 'progress' | 'line';

/** Returned by a step that cannot progress without more input. */
const NEED_MORE = -1;

export class ReplFramer {
  private phase: FramerState = 'loading';
  /** A `>> ` may now be the runner's prompt (init done, or a turn ended). */
  private promptAllowed = false;
  /** Unconsumed input: always only a few characters between pushes. */
  private buf = '';
  /** The unit being accumulated across pushes, and its content so far. */
  private unit: Unit = 'none';
  private acc = '';
  /** After a record: a directly following `\n` / `\r\n` belongs to it. */
  private skipNewline = false;
  /** Events produced outside push() (by beginTurn), returned by the next push. */
  private deferred: FramerEvent[] = [];

  // turn state
  private echo: string | null = null;
  private echoMatched = 0;
  /** Turn text held back: trailing `\n`s (≤ 2) or a trailing high surrogate. */
  private held = '';
  private trackedLine = '';

  /** 'loading' | 'ready' | 'turn' | 'after-footer'. */
  get state(): FramerState {
    return this.phase;
  }

  /** Forgets everything: a new runner process starts loading. */
  reset(): void {
    this.phase = 'loading';
    this.promptAllowed = false;
    this.buf = '';
    this.unit = 'none';
    this.acc = '';
    this.skipNewline = false;
    this.deferred = [];
    this.resetTurn(null);
  }

  /**
   * The caller just typed `typedLine` (without or with its `\n`): what follows is the turn's output.
   * An echo of that line at the very start of the turn is dropped.
   */
  beginTurn(typedLine: string): void {
    if (this.unit === 'line') this.finishLine(this.deferred);
    else if (this.unit !== 'none') this.flushUnterminated(this.deferred);
    this.unit = 'none';
    this.acc = '';
    this.skipNewline = false;
    this.phase = 'turn';
    const line = typedLine.replace(/\r?\n$/, '');
    this.resetTurn(line.length > 0 ? `${line}\n` : null);
  }

  /** Feeds the next piece of output; returns the events it completes, in order. */
  push(chunk: string): FramerEvent[] {
    const out: FramerEvent[] = this.deferred;
    this.deferred = [];
    const b = this.buf + chunk;
    let pos = 0;
    while (pos < b.length) {
      const next = this.step(b, pos, out);
      if (next === NEED_MORE) break;
      pos = next;
    }
    this.buf = b.slice(pos);
    return out;
  }

  // ------------------------------------------------------------------ dispatch

  private step(b: string, pos: number, out: FramerEvent[]): number {
    if (this.unit === 'record' || this.unit === 'progress') return this.continueRecord(b, pos, out);
    if (this.unit === 'line') return this.continueLine(b, pos, out);
    if (this.skipNewline) {
      if (b[pos] === '\n') {
        this.skipNewline = false;
        return pos + 1;
      }
      if (b[pos] === '\r') {
        if (pos + 1 >= b.length) return NEED_MORE;
        if (b[pos + 1] === '\n') {
          this.skipNewline = false;
          return pos + 2;
        }
      }
      this.skipNewline = false;
    }
    return this.phase === 'turn' ? this.turnStep(b, pos, out) : this.lineStart(b, pos, out);
  }

  // ------------------------------------------------------------------ outside a turn

  /** At the start of a line (or right after a record) outside a turn. */
  private lineStart(b: string, pos: number, out: FramerEvent[]): number {
    const c = b[pos];
    if (c === ESC) return this.escapeOutsideTurn(b, pos, true);
    if (this.promptAllowed) {
      if (b.startsWith(PROMPT, pos)) {
        this.phase = 'ready';
        out.push({ type: 'ready' });
        return pos + PROMPT.length;
      }
      if (b.length - pos < PROMPT.length && PROMPT.startsWith(b.slice(pos))) return NEED_MORE;
    }
    if (c === '\n') return pos + 1; // an empty line
    this.unit = 'line';
    this.acc = '';
    return pos;
  }

  private escapeOutsideTurn(b: string, pos: number, atLineStart: boolean): number {
    const esc = classifyEscape(b, pos, true);
    switch (esc.kind) {
      case 'need-more':
        return NEED_MORE;
      case 'record':
      case 'progress':
        if (!atLineStart) return pos; // the caller ends its line first
        this.unit = esc.kind;
        this.acc = '';
        return esc.bodyStart;
      case 'other':
        return esc.end;
    }
  }

  private continueLine(b: string, pos: number, out: FramerEvent[]): number {
    let i = pos;
    while (i < b.length && b[i] !== '\n' && b[i] !== ESC) i++;
    this.acc += b.slice(pos, i);
    if (this.acc.length > MAX_LINE_CHARS) {
      this.emitLine(this.acc, out);
      this.acc = '';
    }
    if (i >= b.length) return i > pos ? i : NEED_MORE;
    if (b[i] === '\n') {
      this.finishLine(out);
      this.unit = 'none';
      return i + 1;
    }
    // An escape inside a line: a record or progress redraw ends the line, anything else is dropped.
    const esc = classifyEscape(b, i, true);
    if (esc.kind === 'need-more') return i > pos ? i : NEED_MORE;
    if (esc.kind === 'other') return esc.end;
    this.finishLine(out);
    this.unit = 'none';
    return i;
  }

  private finishLine(out: FramerEvent[]): void {
    this.emitLine(this.acc, out);
    this.acc = '';
  }

  private emitLine(raw: string, out: FramerEvent[]): void {
    const text = raw.replace(ANSI, '').replace(/\r+$/, '');
    if (text.trim().length === 0) return;
    out.push({ type: 'line', text });
    if (/^Type "q" to exit/.test(text)) this.promptAllowed = true;
    const dead = DEVICE_DEAD.exec(text);
    if (dead) out.push({ type: 'device-dead-suspected', line: text.slice(dead.index) });
  }

  // ------------------------------------------------------------------ records (log lines, progress)

  private continueRecord(b: string, pos: number, out: FramerEvent[]): number {
    const end = b.indexOf(RESET, pos);
    if (end < 0) {
      const keep = partialSuffix(b, pos, RESET);
      const upTo = b.length - keep;
      this.acc += b.slice(pos, upTo);
      if (this.acc.length > MAX_RECORD_CHARS) this.flushUnterminated(out);
      return upTo > pos ? upTo : NEED_MORE;
    }
    this.acc += b.slice(pos, end);
    const body = this.acc;
    const unit = this.unit;
    this.unit = 'none';
    this.acc = '';
    this.skipNewline = true;
    if (unit === 'progress') this.finishProgress(body, out);
    else this.finishRecord(body, out);
    return end + RESET.length;
  }

  /** A record that never ended: keep what it said as a line and carry on. */
  private flushUnterminated(out: FramerEvent[]): void {
    const body = this.acc;
    this.unit = 'none';
    this.acc = '';
    if (this.phase === 'turn') this.releaseHeld(out);
    this.emitLine(body.replace(/\r?\n/g, ' '), out);
  }

  private finishProgress(body: string, out: FramerEvent[]): void {
    const marker = body.indexOf('\x1b[1;30;32m');
    const counts = marker < 0 ? null : /(\d+)\s*\/\s*(\d+)/.exec(body.slice(0, marker));
    if (marker < 0 || !counts) {
      this.emitLine(body.replace(/\r?\n/g, ' '), out);
      return;
    }
    const text = body
      .slice(marker + '\x1b[1;30;32m'.length)
      .replace(ANSI, '')
      .trim();
    out.push({ type: 'progress', step: Number(counts[1]), total: Number(counts[2]), text });
  }

  private finishRecord(body: string, out: FramerEvent[]): void {
    const header = RECORD_HEADER.exec(body);
    if (!header) {
      if (this.phase === 'turn') this.releaseHeld(out);
      this.emitLine(body.replace(/\r?\n/g, ' '), out);
      return;
    }
    const level = header[1] as LogLevel;
    const text = body
      .slice(header[0].length)
      .replace(/\r\n/g, '\n')
      .replace(ANSI, '')
      .trimEnd();
    const isFooter = level === 'N' && /hit eos/.test(text);
    if (this.phase === 'turn') {
      // The `\n\n` before the footer are the runner's; anything else held is model text.
      if (isFooter) this.held = this.held.replace(/\n+$/, '');
      this.releaseHeld(out);
    }
    out.push({ type: 'log', level, fn: header[2].trim(), line: Number(header[3]), text });
    if (isFooter) {
      const rate = /avg\s+([0-9]+(?:\.[0-9]+)?)\s*token\/s/.exec(text);
      out.push({ type: 'footer', tokensPerSecond: rate ? Number(rate[1]) : null });
      this.phase = 'after-footer';
      this.promptAllowed = true;
      this.resetTurn(null);
      return;
    }
    const maxLen = /^max_token_len\s*:\s*(\d+)/.exec(text);
    if (maxLen) {
      out.push({ type: 'max-token-len', value: Number(maxLen[1]) });
    } else if (/^load config:/.test(text)) {
      const config = parseJsonObject(text);
      if (config) out.push({ type: 'post-config', config });
    } else if (level === 'W' && /load postprocess config.*failed/.test(text)) {
      out.push({ type: 'post-config-missing', text });
    } else if (level === 'I' && /LLM init ok/.test(text)) {
      this.promptAllowed = true;
      out.push({ type: 'init-ok' });
    }
  }

  // ------------------------------------------------------------------ during a turn

  private turnStep(b: string, pos: number, out: FramerEvent[]): number {
    if (this.echo !== null) return this.matchEcho(b, pos, out);
    if (b[pos] === ESC) {
      const esc = classifyEscape(b, pos, false);
      if (esc.kind === 'need-more') return NEED_MORE;
      if (esc.kind === 'record') {
        this.unit = 'record';
        this.acc = '';
        return esc.bodyStart;
      }
      return esc.kind === 'other' ? esc.end : esc.bodyStart;
    }
    let i = pos;
    while (i < b.length && b[i] !== ESC) i++;
    let end = i;
    // A `\r` at the very end may be the first half of `\r\n`: wait for the next character.
    if (end === b.length && b[end - 1] === '\r') end -= 1;
    if (end === pos) return NEED_MORE;
    this.turnText(b.slice(pos, end).replace(/\r\n/g, '\n'), out);
    return end;
  }

  /** Drops the terminal's echo of the typed line; on the first difference the matched part is text. */
  private matchEcho(b: string, pos: number, out: FramerEvent[]): number {
    const echo = this.echo as string;
    let i = pos;
    while (i < b.length) {
      const expected = echo[this.echoMatched];
      let width = 0;
      if (b[i] === expected) width = 1;
      else if (expected === '\n' && b[i] === '\r') {
        if (i + 1 >= b.length) break; // `\r` alone: wait
        if (b[i + 1] === '\n') width = 2;
      }
      if (width === 0) {
        const matched = echo.slice(0, this.echoMatched);
        this.echo = null;
        this.echoMatched = 0;
        this.turnText(matched, out);
        return i;
      }
      i += width;
      this.echoMatched += 1;
      if (this.echoMatched === echo.length) {
        this.echo = null;
        this.echoMatched = 0;
        return i;
      }
    }
    return i > pos ? i : NEED_MORE;
  }

  /** New model text (already `\r\n`-normalised). */
  private turnText(text: string, out: FramerEvent[]): void {
    if (!text) return;
    const all = this.held + text;
    let keep = 0;
    while (keep < FOOTER_NEWLINES && keep < all.length && all[all.length - 1 - keep] === '\n') keep++;
    if (keep === 0 && isHighSurrogate(all.charCodeAt(all.length - 1))) keep = 1;
    this.held = all.slice(all.length - keep);
    pushText(out, all.slice(0, all.length - keep));
    this.trackLines(text, out);
  }

  private releaseHeld(out: FramerEvent[]): void {
    pushText(out, this.held);
    this.held = '';
  }

  /** Spots a device-dead line in the turn text (the text itself was emitted already). */
  private trackLines(text: string, out: FramerEvent[]): void {
    let from = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
      const line = this.trackedLine + text.slice(from, nl);
      this.trackedLine = '';
      const dead = DEVICE_DEAD.exec(line);
      if (dead) out.push({ type: 'device-dead-suspected', line: line.slice(dead.index) });
      from = nl + 1;
    }
    this.trackedLine = (this.trackedLine + text.slice(from)).slice(-TRACKED_LINE_CHARS);
  }

  private resetTurn(echo: string | null): void {
    this.echo = echo;
    this.echoMatched = 0;
    this.held = '';
    this.trackedLine = '';
  }
}

// ------------------------------------------------------------------ helpers

/**
 * Classifies the escape sequence at `b[pos]` (an ESC). `withProgress`: whether a progress redraw
 * can start here (not during a turn).
 */
function classifyEscape(b: string, pos: number, withProgress: boolean): EscapeKind {
  if (pos + 1 >= b.length) return { kind: 'need-more' };
  if (b[pos + 1] !== '[') return { kind: 'other', end: pos + 1 };
  let j = pos + 2;
  while (j < b.length && j - pos < MAX_CSI_CHARS && isParam(b.charCodeAt(j))) j++;
  while (j < b.length && j - pos < MAX_CSI_CHARS && isIntermediate(b.charCodeAt(j))) j++;
  if (j - pos >= MAX_CSI_CHARS) return { kind: 'other', end: pos + 1 };
  if (j >= b.length) return { kind: 'need-more' };
  const end = j + 1;
  if (!isFinal(b.charCodeAt(j))) return { kind: 'other', end: pos + 1 };
  const params = b.slice(pos + 2, j);
  if (b[j] !== 'm' || !/^1;30;3[0-7]$/.test(params)) return { kind: 'other', end };
  if (end >= b.length) return { kind: 'need-more' };
  if (withProgress && params === '1;30;33' && b[end] === '\r') return { kind: 'progress', bodyStart: end + 1 };
  // A record body starts with `[L][`.
  const head = b.slice(end, end + 4);
  if (/^\[[INWE]\]\[$/.test(head)) return { kind: 'record', bodyStart: end };
  if (head.length < 4 && /^(\[([INWE](\])?)?)?$/.test(head)) return { kind: 'need-more' };
  return { kind: 'other', end };
}

function isParam(code: number): boolean {
  return code >= 0x30 && code <= 0x3f;
}

function isIntermediate(code: number): boolean {
  return code >= 0x20 && code <= 0x2f;
}

function isFinal(code: number): boolean {
  return code >= 0x40 && code <= 0x7e;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** Length of the longest suffix of b[from..] that is a proper prefix of `marker`. */
function partialSuffix(b: string, from: number, marker: string): number {
  for (let k = Math.min(marker.length - 1, b.length - from); k > 0; k--) {
    if (b.endsWith(marker.slice(0, k))) return k;
  }
  return 0;
}

/** Appends text, merging with a directly preceding text event. */
function pushText(out: FramerEvent[], text: string): void {
  if (!text) return;
  const last = out[out.length - 1];
  if (last && last.type === 'text') last.text += text;
  else out.push({ type: 'text', text });
}

/** The JSON object in a `load config:` record, or null. */
function parseJsonObject(text: string): Record<string, unknown> | null {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end < start) return null;
  try {
    const value: unknown = JSON.parse(text.slice(start, end + 1));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
