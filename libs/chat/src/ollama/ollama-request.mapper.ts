import type { ChatMessage } from '@qwen/tokenizer';
import { ToolDeclarationInput, planOllamaFormat, planOllamaTools, requestedOllamaLimit } from '@qwen/tools';
import { AnswerPlan } from '../assistant/assistant-events';
import { HistoryToolCall, historyToolCalls } from '../common/history-tool-calls';
import { stopList } from '../common/stop-list';
import type { ChatGenerationRequest } from '../pipeline/chat-pipeline';
import { ollamaBadRequest } from './ollama-http-error';
import { OllamaChatRequestDto, OllamaGenerateRequestDto, OllamaGenerationBaseDto, OllamaMessageDto } from './ollama-request.dto';
import { IGNORED_OPTIONS_HEADER, NUM_CTX_HEADER } from './ollama.constants';

/** What one /api/chat or /api/generate request asks of the model. */
export interface OllamaGenerationPlan {
  /** The name to answer with: Ollama echoes the requested name. */
  model: string;
  /** Ollama's default is TRUE. */
  stream: boolean;
  /** null for an empty request (no messages / no prompt): Ollama only loads the model and says so. */
  request: ChatGenerationRequest | null;
  /** The tools offered (`tools`) and the JSON asked for (`format`). */
  answer: AnswerPlan;
  /** Honest response headers about options that could not be applied as asked. */
  headers: Record<string, string>;
}

/** Options that are applied per request; every other option is reported as ignored. */
const APPLIED_OPTIONS = new Set(['num_predict', 'stop', 'num_ctx']);
const OPTION_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_LISTED_OPTIONS = 24;
/** Ollama sets no limit on stop strings; the stop cutter's cost grows with their number, so keep it sane. */
const MAX_STOP_STRINGS = 16;

/** POST /api/chat → generation request. `contextWindow` is the runner's max_token_len (null before the first load). */
export function planChat(dto: OllamaChatRequestDto, raw: Record<string, unknown>, contextWindow: number | null): OllamaGenerationPlan {
  rejectUnsupported(dto);
  const answer: AnswerPlan = { tools: planOllamaTools(dto.tools as ToolDeclarationInput[] | undefined), structured: planOllamaFormat(dto.format) };
  const messages = (dto.messages ?? []).map(toChatMessage);
  const request = messages.length > 0 ? { messages, ...generationOptions(dto) } : null;
  return { model: dto.model, stream: dto.stream ?? true, request, answer, headers: optionHeaders(raw, contextWindow) };
}

/** POST /api/generate → generation request: `raw` sends the prompt as is, otherwise `system` + `prompt` as a conversation. */
export function planGenerate(dto: OllamaGenerateRequestDto, raw: Record<string, unknown>, contextWindow: number | null): OllamaGenerationPlan {
  rejectUnsupported(dto);
  if (dto.suffix) throw ollamaBadRequest(`"${dto.model}" does not support insert: suffix (fill-in-the-middle) is not supported`);
  if (dto.images && dto.images.length > 0) throw ollamaBadRequest('images are not supported: this model is text-only');
  if (dto.context && dto.context.length > 0) {
    throw ollamaBadRequest('context is not supported: send the whole conversation with /api/chat instead');
  }
  if (dto.template) throw ollamaBadRequest('template is not supported: the model\'s own chat template is always used (or set "raw": true)');
  const answer: AnswerPlan = { tools: null, structured: planOllamaFormat(dto.format) };
  const prompt = dto.prompt ?? '';
  let request: ChatGenerationRequest | null = null;
  if (prompt !== '') {
    if (dto.raw) {
      request = { prompt, ...generationOptions(dto) };
    } else {
      const messages: ChatMessage[] = dto.system ? [{ role: 'system', content: dto.system }] : [];
      messages.push({ role: 'user', content: prompt });
      request = { messages, ...generationOptions(dto) };
    }
  }
  return { model: dto.model, stream: dto.stream ?? true, request, answer, headers: optionHeaders(raw, contextWindow) };
}

function rejectUnsupported(dto: OllamaGenerationBaseDto): void {
  const think = dto.think;
  if (think !== undefined && think !== null && think !== false) {
    throw ollamaBadRequest(`"${dto.model}" does not support thinking`);
  }
}

function toChatMessage(message: OllamaMessageDto, index: number): ChatMessage {
  if (message.images && message.images.length > 0) {
    throw ollamaBadRequest(`messages.${index}.images: images are not supported: this model is text-only`);
  }
  const out: ChatMessage = { role: message.role, content: message.content ?? '' };
  if (message.role === 'tool' && message.tool_name) out.name = message.tool_name;
  if (message.role === 'assistant' && message.tool_calls && message.tool_calls.length > 0) {
    out.toolCalls = historyToolCalls(message.tool_calls as HistoryToolCall[], `messages.${index}.tool_calls`);
  }
  return out;
}

/**
 * num_predict (an upper bound: clamped to the room the window leaves; -1 or -2 means no limit) and stop
 * (a string or a list). 0 keeps its old meaning here: no limit.
 */
function generationOptions(dto: OllamaGenerationBaseDto): Pick<ChatGenerationRequest, 'maxTokens' | 'stop'> {
  const options = dto.options ?? {};
  const out: Pick<ChatGenerationRequest, 'maxTokens' | 'stop'> = {};
  const limit = requestedOllamaLimit(options.num_predict);
  if (limit !== null && limit > 0) out.maxTokens = limit;
  const stop = stopList(options.stop);
  if (stop && stop.length > MAX_STOP_STRINGS) throw ollamaBadRequest(`options.stop: at most ${MAX_STOP_STRINGS} stop strings are supported`);
  if (stop) out.stop = stop;
  return out;
}

/**
 * The runner samples with the settings it loaded (X-Qwen-Sampling, set by the pipeline) and its
 * window is fixed at load: per-request sampling options are listed as ignored, and `num_ctx` is
 * answered with the window really used.
 */
function optionHeaders(raw: Record<string, unknown>, contextWindow: number | null): Record<string, string> {
  const headers: Record<string, string> = {};
  const options = raw.options;
  if (!options || typeof options !== 'object') return headers;
  const ignored = Object.keys(options).filter((key) => !APPLIED_OPTIONS.has(key) && OPTION_NAME.test(key));
  if (ignored.length > 0) headers[IGNORED_OPTIONS_HEADER] = ignored.slice(0, MAX_LISTED_OPTIONS).join(', ');
  const numCtx = (options as Record<string, unknown>).num_ctx;
  if (typeof numCtx === 'number') headers[NUM_CTX_HEADER] = `requested=${numCtx}; used=${contextWindow ?? 'unknown'}`;
  return headers;
}
