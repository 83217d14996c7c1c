import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import axios, { AxiosInstance, AxiosResponse, isAxiosError } from 'axios';
import { Agent } from 'node:http';
import { TokenizerClock } from './tokenizer-clock';
import { TokenizerSupervisor } from './tokenizer-supervisor';
import {
  ChatMessage,
  ContextLengthExceededBody,
  ContextLengthExceededError,
  RegisterPromptRequest,
  RegisterPromptResponse,
  TokenizerUnavailableError,
  TurnReport,
} from './tokenizer.contract';
import { TOKENIZER_OPTIONS, TokenizerModuleOptions } from './tokenizer.options';
import { upstreamPromptLine } from './upstream-prompt-line';

/** The tokenizer answered, but refused the request (4xx other than context_length_exceeded). */
export class TokenizerRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'TokenizerRequestError';
  }
}

/** The call needs our tokenizer server; the upstream one (tokenizer.mode = upstream) cannot do it. */
export class TokenizerUnsupportedError extends Error {
  constructor(what: string) {
    super(`${what} is not available with the upstream tokenizer (tokenizer.mode = upstream)`);
    this.name = 'TokenizerUnsupportedError';
  }
}

type Method = 'GET' | 'POST';

/**
 * Typed HTTP client of the tokenizer server, for the service's own calls.
 * - Fails fast: when the supervisor does not report `ready`, every call (but health()) throws
 *   TokenizerUnavailableError at once, without touching the network.
 * - Connection refused/reset, timeout (tokenizer.requestTimeoutMs) and 5xx → TokenizerUnavailableError.
 * - Idempotent calls (GETs, /chat_template) are retried once on a connection error or a 5xx;
 *   a timeout is not retried (the caller would wait twice as long).
 */
@Injectable()
export class TokenizerClient implements OnModuleDestroy {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4 });
  private readonly http: AxiosInstance;

  constructor(
    @Inject(TOKENIZER_OPTIONS) private readonly options: TokenizerModuleOptions,
    private readonly supervisor: TokenizerSupervisor,
    private readonly clock: TokenizerClock,
  ) {
    this.http = axios.create({
      timeout: options.tokenizer.requestTimeoutMs,
      httpAgent: this.agent,
      proxy: false,
      validateStatus: () => true,
      headers: { 'content-type': 'application/json' },
    });
  }

  /** Tokens the upstream server's fixed conversation adds around any text (measured once). */
  private upstreamOverhead: number | undefined;

  onModuleDestroy(): void {
    this.agent.destroy();
  }

  /**
   * Registers a complete prompt and returns the handle to type into the runner.
   * Throws ContextLengthExceededError when even the shortest transcript does not fit the window.
   */
  async registerPrompt(request: RegisterPromptRequest): Promise<RegisterPromptResponse> {
    if (this.supervisor.snapshot().mode === 'upstream') return this.registerUpstream(request);
    const response = await this.call<RegisterPromptResponse | ContextLengthExceededBody>('POST', '/prompts', request, false);
    if (response.status === 400) {
      const body = response.data as Partial<ContextLengthExceededBody> | undefined;
      if (body?.error?.code === 'context_length_exceeded') {
        throw new ContextLengthExceededError(body.error.promptTokens, body.error.contextWindow, request.maxTokens);
      }
    }
    return this.expectOk(response, 'POST /prompts') as RegisterPromptResponse;
  }

  /** What the runner did for a registered prompt: exact generated ids (usage), printed text. */
  async turn(handle: string): Promise<TurnReport> {
    if (this.supervisor.snapshot().mode === 'upstream') throw new TokenizerUnsupportedError('a turn report');
    const path = `/turns/${encodeURIComponent(handle)}`;
    return this.expectOk(await this.call<TurnReport>('GET', path, undefined, true), 'GET /turns/…');
  }

  /**
   * UPSTREAM MODE only: the number of tokens of `text`, measured with the upstream server's own
   * /encode (which wraps any text in a fixed conversation) minus what it answers for an empty text.
   * Exact for ordinary text; used for usage counts when no turn report exists.
   */
  async countUpstreamTokens(text: string): Promise<number> {
    const encode = async (value: string): Promise<number> => {
      const ids = this.expectOk(await this.call<{ token_ids?: unknown }>('POST', '/encode', { text: value }, true), 'POST /encode').token_ids;
      if (!Array.isArray(ids)) throw new TokenizerUnavailableError('the upstream tokenizer answered /encode without token_ids');
      return ids.length;
    };
    this.upstreamOverhead ??= await encode('');
    return Math.max(0, (await encode(text)) - this.upstreamOverhead);
  }

  /** The prompt text the model's chat template makes of `messages` (with the generation prompt). */
  async chatTemplate(messages: ChatMessage[]): Promise<string> {
    if (this.supervisor.snapshot().mode === 'upstream') throw new TokenizerUnsupportedError('the chat template');
    const response = await this.call<{ prompt: string }>('POST', '/chat_template', { messages }, true);
    return this.expectOk(response, 'POST /chat_template').prompt;
  }

  /** True when the tokenizer answers its health check now (whatever the supervisor's state). Never throws. */
  async health(): Promise<boolean> {
    // The upstream server has no /health (unknown paths answer "error" with 200): ask /bos_id there.
    const path = this.supervisor.snapshot().mode === 'upstream' ? '/bos_id' : '/health';
    try {
      const response = await this.http.request({ method: 'GET', url: this.url(path), timeout: this.options.tokenizer.healthTimeoutMs });
      return response.status === 200;
    } catch {
      return false;
    }
  }

  /**
   * UPSTREAM MODE. qwen2.5_tokenizer.py has no /prompts: nothing can be registered, and the runner
   * will send its /encode exactly the line it is given. So the "handle" returned here is not a
   * handle at all: it is the last user message made into one safe terminal line (see
   * upstreamPromptLine: newlines → spaces, controls removed, truncated below 4095 bytes, never `q`,
   * never empty). System prompts and earlier turns are dropped (droppedMessages says how many).
   * promptTokens is the length of what upstream /encode answers for that line — the same ids the
   * runner will get. maxTokens is the requested limit clamped to the room the window leaves; the
   * upstream tokenizer does not enforce it (ModelService must stop the runner itself) and there
   * are no turn reports, so usage is not exact in this mode. expiresAt is nominal.
   */
  private async registerUpstream(request: RegisterPromptRequest): Promise<RegisterPromptResponse> {
    const line = upstreamPromptLine(request);
    const response = await this.call<{ token_ids?: unknown }>('POST', '/encode', { text: line }, true);
    const ids = this.expectOk(response, 'POST /encode').token_ids;
    if (!Array.isArray(ids)) throw new TokenizerUnavailableError('the upstream tokenizer answered /encode without token_ids');
    const promptTokens = ids.length;
    const room = request.contextWindow - promptTokens;
    if (room <= 0) throw new ContextLengthExceededError(promptTokens, request.contextWindow, request.maxTokens);
    return {
      handle: line,
      promptTokens,
      maxTokens: Math.min(request.maxTokens ?? room, room),
      droppedMessages: request.messages ? Math.max(0, request.messages.length - 1) : 0,
      expiresAt: this.clock.now() + this.options.tokenizer.handleTtlMs,
    };
  }

  private url(path: string): string {
    return `http://${this.options.tokenizer.host}:${this.supervisor.snapshot().port}${path}`;
  }

  private async call<T>(method: Method, path: string, body: unknown, idempotent: boolean): Promise<AxiosResponse<T>> {
    const state = this.supervisor.snapshot().state;
    if (state !== 'ready') throw new TokenizerUnavailableError(`tokenizer unavailable (${state})`);
    const what = `${method} ${path.startsWith('/turns/') ? '/turns/…' : path}`;
    for (let attempt = 1; ; attempt++) {
      const retry = idempotent && attempt === 1;
      let response: AxiosResponse<T>;
      try {
        response = await this.http.request<T>({ method, url: this.url(path), data: body });
      } catch (error) {
        const timedOut = isAxiosError(error) && (error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT');
        if (timedOut) {
          throw new TokenizerUnavailableError(`tokenizer unavailable: no answer to ${what} within ${this.options.tokenizer.requestTimeoutMs} ms`);
        }
        if (retry) continue;
        const code = isAxiosError(error) ? (error.code ?? error.message) : (error as Error).message;
        throw new TokenizerUnavailableError(`tokenizer unavailable: ${what} failed (${code})`);
      }
      if (response.status >= 500) {
        if (retry) continue;
        throw new TokenizerUnavailableError(`tokenizer unavailable: ${what} answered ${response.status}`);
      }
      return response;
    }
  }

  private expectOk<T>(response: AxiosResponse<T>, what: string): T {
    if (response.status >= 200 && response.status < 300) return response.data;
    const data = response.data as { error?: { message?: string } | string } | undefined;
    const detail = typeof data?.error === 'string' ? data.error : (data?.error?.message ?? '');
    throw new TokenizerRequestError(response.status, `tokenizer refused ${what}: ${response.status}${detail ? ` ${detail}` : ''}`);
  }
}
