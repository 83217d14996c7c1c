import { isObject, scanJsonContainer, skipWhitespace } from './json-scanner';
import { TOOL_CALL_CLOSE_TAG, TOOL_CALL_OPEN_TAG } from './tool-plan';

/** A call found in the model's text, before it gets an id. */
export interface FoundToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

export type ScannedSegment = { kind: 'text'; text: string } | { kind: 'call'; call: FoundToolCall };

export interface ScanOutcome {
  segments: ScannedSegment[];
  /** Length of the prefix of the input these segments cover; the rest must be scanned again with more text. */
  consumed: number;
  /** Whether a bare JSON object may still be a call at `consumed` (only whitespace or calls before it). */
  bareAllowed: boolean;
}

const FENCE = '```';
const FENCE_HEADER = /^```[ \t]*(?:json)?[ \t]*\r?\n/i;
const PARTIAL_FENCE_HEADER = /^```[ \t]*(?:j(?:s(?:o(?:n)?)?)?)?[ \t]*\r?$/i;
const MARKERS = [TOOL_CALL_OPEN_TAG, FENCE];

type Attempt = { kind: 'call'; call: FoundToolCall; end: number } | { kind: 'text'; end: number } | { kind: 'incomplete' };

/**
 * Splits model text into plain text and tool calls, the way Qwen2.5 writes them: `<tool_call>{…}</tool_call>`
 * blocks (closing tag optional), ```json fenced objects, and a bare object when nothing but calls and
 * whitespace precede it. Only objects naming a declared tool are calls (none declared: all text, nothing held). With `final` false, it stops
 * before anything more text could still change (a partial tag, an open call, trailing whitespace while
 * a bare call is possible) and says how far it got. Never throws.
 */
export function scanToolCalls(text: string, declaredNames: ReadonlySet<string>, bareAllowedAtStart: boolean, final: boolean): ScanOutcome {
  const segments: ScannedSegment[] = [];
  const pushText = (from: number, to: number): void => {
    if (to > from) segments.push({ kind: 'text', text: text.slice(from, to) });
  };
  if (declaredNames.size === 0) {
    pushText(0, text.length);
    return { segments, consumed: text.length, bareAllowed: false };
  }
  let pos = 0;
  let bareAllowed = bareAllowedAtStart;
  while (pos < text.length) {
    if (bareAllowed) {
      const start = skipWhitespace(text, pos);
      if (start === text.length) {
        if (!final) break;
        pushText(pos, start);
        pos = start;
        break;
      }
      if (text[start] === '{') {
        const attempt = attemptObject(text, start, declaredNames, final, (valueEnd) => ({ end: valueEnd }));
        if (attempt.kind === 'incomplete') break;
        if (attempt.kind === 'call') {
          pushText(pos, start);
          segments.push({ kind: 'call', call: attempt.call });
          pos = attempt.end;
          continue;
        }
      }
      bareAllowed = false;
    }
    const marker = nextMarker(text, pos);
    if (marker === null) {
      const hold = final ? text.length : partialMarkerStart(text, pos);
      pushText(pos, hold);
      pos = hold;
      break;
    }
    const attempt = marker.marker === TOOL_CALL_OPEN_TAG ? attemptTagged(text, marker.index, declaredNames, final) : attemptFenced(text, marker.index, declaredNames, final);
    if (attempt.kind === 'incomplete') {
      pushText(pos, marker.index);
      pos = marker.index;
      break;
    }
    if (attempt.kind === 'call') {
      pushText(pos, marker.index);
      segments.push({ kind: 'call', call: attempt.call });
      pos = attempt.end;
      bareAllowed = true;
      continue;
    }
    pushText(pos, attempt.end);
    pos = attempt.end;
  }
  return { segments, consumed: pos, bareAllowed };
}

/** `<tool_call>` at `at`: the object after it, then `</tool_call>` (stray `}` before it tolerated; missing tolerated). */
function attemptTagged(text: string, at: number, names: ReadonlySet<string>, final: boolean): Attempt {
  const open = skipWhitespace(text, at + TOOL_CALL_OPEN_TAG.length);
  if (open === text.length) return final ? { kind: 'text', end: text.length } : { kind: 'incomplete' };
  if (text[open] !== '{') return { kind: 'text', end: at + TOOL_CALL_OPEN_TAG.length };
  return attemptObject(text, open, names, final, (valueEnd) => {
    let close = valueEnd;
    while (close < text.length && (text[close] === '}' || /\s/.test(text[close]))) close++;
    const rest = text.slice(close);
    if (rest.startsWith(TOOL_CALL_CLOSE_TAG)) return { end: close + TOOL_CALL_CLOSE_TAG.length };
    if (!final && TOOL_CALL_CLOSE_TAG.startsWith(rest)) return 'incomplete';
    return { end: valueEnd };
  }, at + TOOL_CALL_OPEN_TAG.length);
}

/** ``` at `at`: a `json` (or unlabelled) fence holding one object, then the closing fence (missing tolerated at the end). */
function attemptFenced(text: string, at: number, names: ReadonlySet<string>, final: boolean): Attempt {
  const afterFence = at + FENCE.length;
  const tail = text.slice(at);
  const header = FENCE_HEADER.exec(tail);
  if (!header) return !final && PARTIAL_FENCE_HEADER.test(tail) ? { kind: 'incomplete' } : { kind: 'text', end: afterFence };
  const open = skipWhitespace(text, at + header[0].length);
  if (open === text.length) return final ? { kind: 'text', end: text.length } : { kind: 'incomplete' };
  if (text[open] !== '{') return { kind: 'text', end: afterFence };
  return attemptObject(text, open, names, final, (valueEnd) => {
    const close = skipWhitespace(text, valueEnd);
    const rest = text.slice(close);
    if (rest.startsWith(FENCE)) return { end: close + FENCE.length };
    if (!final && FENCE.startsWith(rest)) return 'incomplete';
    if (final && rest === '') return { end: close };
    return 'not-a-call';
  }, afterFence);
}

type Closing = { end: number } | 'incomplete' | 'not-a-call';

/**
 * The JSON object opening at `open`: incomplete while it (or its closing, per `closing`) may still grow,
 * a call when it names a declared tool, else text up to `textEnd` (default: the object's end).
 */
function attemptObject(
  text: string,
  open: number,
  names: ReadonlySet<string>,
  final: boolean,
  closing: (valueEnd: number) => Closing,
  textEnd?: number,
): Attempt {
  const scan = scanJsonContainer(text, open);
  if (scan.kind === 'incomplete') return final ? { kind: 'text', end: textEnd ?? text.length } : { kind: 'incomplete' };
  const notCall: Attempt = { kind: 'text', end: textEnd ?? scan.end };
  const call = toolCallFromJson(text.slice(open, scan.end), names);
  if (!call) return notCall;
  const closed = closing(scan.end);
  if (closed === 'incomplete') return { kind: 'incomplete' };
  if (closed === 'not-a-call') return notCall;
  return { kind: 'call', call, end: closed.end };
}

/**
 * `{"name": declared, "arguments": {…}}`, leniently: `parameters` for `arguments`, arguments as a JSON
 * string, absent arguments as `{}`, and the OpenAI `{"function": {…}}` wrapper. Anything else → null.
 */
export function toolCallFromJson(json: string, names: ReadonlySet<string>): FoundToolCall | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  if (!isObject(value)) return null;
  const call = typeof value.name !== 'string' && isObject(value.function) ? value.function : value;
  if (typeof call.name !== 'string' || !names.has(call.name)) return null;
  const args = argumentsObject('arguments' in call ? call.arguments : call.parameters);
  return args === null ? null : { name: call.name, arguments: args };
}

function argumentsObject(raw: unknown): Record<string, unknown> | null {
  if (raw === undefined || raw === null) return {};
  if (isObject(raw)) return raw;
  if (typeof raw !== 'string') return null;
  if (raw.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    return isObject(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

function nextMarker(text: string, from: number): { marker: string; index: number } | null {
  let best: { marker: string; index: number } | null = null;
  for (const marker of MARKERS) {
    const index = text.indexOf(marker, from);
    if (index !== -1 && (best === null || index < best.index)) best = { marker, index };
  }
  return best;
}

/** Start of the longest tail of `text` (after `from`) that may be the beginning of a marker; text.length if none. */
function partialMarkerStart(text: string, from: number): number {
  let start = text.length;
  for (const marker of MARKERS) {
    for (let length = Math.min(marker.length - 1, text.length - from); length > 0; length--) {
      if (text.endsWith(marker.slice(0, length))) {
        start = Math.min(start, text.length - length);
        break;
      }
    }
  }
  return start;
}
