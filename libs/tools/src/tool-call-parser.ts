import { randomBytes } from 'node:crypto';
import { scanToolCalls, type FoundToolCall, type ScannedSegment } from './tool-call-scanner';

/** A tool call the model made, ready for either API. */
export interface ParsedToolCall {
  /** `call_…`, unique per call. */
  id: string;
  name: string;
  /** Ollama `function.arguments`. */
  arguments: Record<string, unknown>;
  /** OpenAI `function.arguments` (compact JSON text). */
  argumentsJson: string;
}

/** The model's final text, split. */
export interface ToolCallParseResult {
  /** Text before the first call (trailing whitespace dropped when calls follow); null when empty (OpenAI `content: null`). */
  content: string | null;
  toolCalls: ParsedToolCall[];
  /** Text after the first call that is not a call (not part of any API answer; for logs). */
  trailingText: string;
}

/** `call_` + 24 random hex digits. */
export function newToolCallId(): string {
  return `call_${randomBytes(12).toString('hex')}`;
}

/**
 * Parses the model's complete answer into content and tool calls (see scanToolCalls for what counts as
 * a call). An undeclared name or an unparsable call stays text. Never throws.
 */
export class ToolCallParser {
  private readonly names: ReadonlySet<string>;

  constructor(
    declaredNames: Iterable<string>,
    private readonly newId: () => string = newToolCallId,
  ) {
    this.names = new Set(declaredNames);
  }

  parse(text: string): ToolCallParseResult {
    const { segments } = scanToolCalls(text, this.names, true, true);
    return assemble(segments, this.newId);
  }
}

/** What one `push` (or `finish`) releases. */
export interface ToolCallStreamStep {
  /** Content text that is safe to send now (never part of a call or of a possible tag). */
  text: string;
  /** Calls completed by this delta, in order. */
  toolCalls: ParsedToolCall[];
}

/**
 * The streaming twin of ToolCallParser: feed the model's text deltas (a tool_choice prefill first), get
 * content text that is safe to emit now and each call once it is complete. Holds back a tail that may
 * still open a call (`<tool_`, ```` ``` ````, an open object) and trailing whitespace (dropped if a call
 * follows). After the first call no more text is released, so the concatenated `text` equals
 * ToolCallParser's `content ?? ''` and the calls are the same. Never throws.
 */
export class ToolCallStreamParser {
  private readonly names: ReadonlySet<string>;
  private pending = '';
  private bareAllowed = true;
  private heldWhitespace = '';
  private sawCall = false;
  private trailing = '';
  private finished = false;

  constructor(
    declaredNames: Iterable<string>,
    private readonly newId: () => string = newToolCallId,
  ) {
    this.names = new Set(declaredNames);
  }

  push(delta: string): ToolCallStreamStep {
    if (this.finished) return { text: '', toolCalls: [] };
    this.pending += delta;
    return this.advance(false);
  }

  /** The end of the answer: releases what was held (an unfinished call becomes text). */
  finish(): ToolCallStreamStep {
    if (this.finished) return { text: '', toolCalls: [] };
    const step = this.advance(true);
    this.finished = true;
    if (!this.sawCall) step.text += this.heldWhitespace;
    this.heldWhitespace = '';
    return step;
  }

  /** Text after the first call that was not a call (for logs), once finished. */
  get trailingText(): string {
    return this.trailing;
  }

  private advance(final: boolean): ToolCallStreamStep {
    const outcome = scanToolCalls(this.pending, this.names, this.bareAllowed, final);
    this.pending = this.pending.slice(outcome.consumed);
    this.bareAllowed = outcome.bareAllowed;
    const step: ToolCallStreamStep = { text: '', toolCalls: [] };
    for (const segment of outcome.segments) {
      if (segment.kind === 'call') {
        this.sawCall = true;
        this.heldWhitespace = '';
        step.toolCalls.push(toParsedCall(segment.call, this.newId));
      } else if (this.sawCall) {
        this.trailing += segment.text;
      } else {
        const text = this.heldWhitespace + segment.text;
        const kept = text.trimEnd();
        step.text += kept;
        this.heldWhitespace = text.slice(kept.length);
      }
    }
    return step;
  }
}

function assemble(segments: readonly ScannedSegment[], newId: () => string): ToolCallParseResult {
  let before = '';
  let trailingText = '';
  const toolCalls: ParsedToolCall[] = [];
  for (const segment of segments) {
    if (segment.kind === 'call') toolCalls.push(toParsedCall(segment.call, newId));
    else if (toolCalls.length === 0) before += segment.text;
    else trailingText += segment.text;
  }
  const content = toolCalls.length > 0 ? before.trimEnd() : before;
  return { content: content === '' ? null : content, toolCalls, trailingText };
}

function toParsedCall(call: FoundToolCall, newId: () => string): ParsedToolCall {
  return { id: newId(), name: call.name, arguments: call.arguments, argumentsJson: JSON.stringify(call.arguments) };
}
