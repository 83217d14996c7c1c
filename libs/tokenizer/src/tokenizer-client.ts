import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import axios, { AxiosInstance, isAxiosError } from 'axios';
import { Agent } from 'node:http';
import { filter, Observable, Subscription } from 'rxjs';
import { TokenizerSupervisor } from './tokenizer-supervisor';
import {
  ContextLengthExceededError,
  RegisterPromptRequest,
  RegisterPromptResponse,
  TokenizerCommand,
  TokenizerProcessMessage,
  TokenizerUnavailableError,
  TurnProgress,
  TurnReport,
} from './tokenizer.contract';
import { TOKENIZER_OPTIONS, TokenizerModuleOptions } from './tokenizer.options';

/** The tokenizer process refused a registration it could not use (a bug of ours, not of the client). */
export class TokenizerRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenizerRequestError';
  }
}

/** How many finished turns' final counts are remembered for settle(). */
const ENDED_TURNS_KEPT = 64;
const PROGRESS_TYPES = new Set(['turn-start', 'printed-text', 'tokens', 'turn-end', 'unknown-line']);

type Reply = Extract<TokenizerProcessMessage, { id: number }>;

interface Pending {
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
}

/**
 * The service's calls to the tokenizer process.
 * - Our server (builtin): over the channels of the forked process, never over its port —
 *   registrations over the registration pipe (read by the process's worker thread, not by the thread
 *   answering the runner), everything else over IPC. A registration answers when it is done (a long
 *   history is never cut short by a timeout; the work runs off the thread that answers the runner),
 *   and fails with TokenizerUnavailableError only when the process is not ready or goes away meanwhile.
 * - The upstream server: its /encode over HTTP (tokenizer.requestTimeoutMs), the only call it has.
 */
@Injectable()
export class TokenizerClient implements OnModuleDestroy {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4 });
  private readonly http: AxiosInstance;
  private readonly pending = new Map<number, Pending>();
  private readonly endedTurns = new Map<string, number>();
  private readonly subscriptions = new Subscription();
  private nextId = 1;
  /** Tokens the upstream server's fixed conversation adds around any text (measured once). */
  private upstreamOverhead: number | undefined;

  /** A turn's progress and its end, as the tokenizer process reports them. */
  readonly progress$: Observable<TurnProgress>;

  constructor(
    @Inject(TOKENIZER_OPTIONS) private readonly options: TokenizerModuleOptions,
    private readonly supervisor: TokenizerSupervisor,
  ) {
    this.http = axios.create({
      timeout: options.tokenizer.requestTimeoutMs,
      httpAgent: this.agent,
      proxy: false,
      validateStatus: () => true,
      headers: { 'content-type': 'application/json' },
    });
    this.progress$ = supervisor.messages$.pipe(filter((message): message is TurnProgress => PROGRESS_TYPES.has(message.type)));
    this.subscriptions.add(supervisor.messages$.subscribe((message) => this.onMessage(message)));
    // A process that stops being ready answers nothing more: fail what waits for it.
    this.subscriptions.add(
      supervisor.snapshots$.subscribe((snapshot) => {
        if (snapshot.state !== 'ready') this.failPending(`tokenizer unavailable (${snapshot.state})`);
      }),
    );
  }

  onModuleDestroy(): void {
    this.subscriptions.unsubscribe();
    this.agent.destroy();
  }

  /**
   * Registers a complete prompt and returns the handle to type into the runner (the mode's strategy).
   * Throws ContextLengthExceededError when even the shortest transcript does not fit the window.
   */
  registerPrompt(request: RegisterPromptRequest): Promise<RegisterPromptResponse> {
    return this.supervisor.strategy().register(this, request, this.options);
  }

  /** Builtin: the registration over the fork's private pipe to the worker thread (TokenizerProcess). */
  async registerOverPipe(request: RegisterPromptRequest): Promise<RegisterPromptResponse> {
    const reply = await this.request({ type: 'register', request });
    if (reply.type === 'registered') return reply.response;
    if (reply.type === 'refused' && reply.error.code === 'context_length_exceeded') {
      throw new ContextLengthExceededError(reply.error.promptTokens, reply.error.contextWindow, request.maxTokens);
    }
    throw new TokenizerRequestError(`the tokenizer refused the registration: ${reply.type === 'refused' ? reply.error.message : reply.type}`);
  }

  /** Builtin: forget a registration that will never be typed (nothing happens when the process is not ready). */
  release(handle: string): void {
    try {
      this.supervisor.send({ type: 'release', handle });
    } catch {
      // a process that is not ready has no handles to forget
    }
  }

  /** Builtin: names the runner process (null: none) whose connections alone may start and feed a turn (nothing happens when the process is not ready). */
  announceRunner(pid: number | null): void {
    try {
      this.supervisor.send({ type: 'runner', pid });
    } catch {
      // not ready (or upstream): told again when a process becomes ready (TokenizerBridge)
    }
  }

  /** Builtin: what the runner did for a registered prompt (the final /decode's ids, the printed text). */
  async turn(handle: string): Promise<TurnReport> {
    const reply = await this.request({ type: 'report', handle });
    if (reply.type === 'reported' && reply.report) return reply.report;
    throw new TokenizerRequestError('the tokenizer knows no turn for this handle');
  }

  /**
   * Builtin: the generated ids of a finished turn, ASKED of the process rather than taken from a
   * remembered turn-end: a 3-id /decode may have looked like the runner's final call (a possible
   * end), and the real final call's turn-end may still be in flight when the runner's ">> " reaches
   * us. The process answers after handling everything before, so its report counts the final call.
   * A remembered turn-end serves only when the process no longer knows the turn.
   */
  async generatedCount(handle: string): Promise<number> {
    try {
      return (await this.turn(handle)).generatedIds.length;
    } catch (error) {
      const ended = this.endedTurns.get(handle);
      if (ended !== undefined && error instanceof TokenizerRequestError) return ended;
      throw error;
    }
  }

  /** Upstream: the number of ids its /encode answers for `text` (its fixed conversation included). */
  async upstreamEncodedLength(text: string): Promise<number> {
    const state = this.supervisor.snapshot().state;
    if (state !== 'ready') throw new TokenizerUnavailableError(`tokenizer unavailable (${state})`);
    let response;
    try {
      response = await this.http.post<{ token_ids?: unknown }>(this.url('/encode'), { text });
    } catch (error) {
      const code = isAxiosError(error) ? (error.code ?? error.message) : (error as Error).message;
      throw new TokenizerUnavailableError(`tokenizer unavailable: POST /encode failed (${code})`);
    }
    const ids = response.data?.token_ids;
    if (response.status !== 200 || !Array.isArray(ids)) {
      throw new TokenizerUnavailableError(`tokenizer unavailable: the upstream tokenizer answered /encode with ${response.status} and no token_ids`);
    }
    return ids.length;
  }

  /**
   * Upstream: the number of tokens of `text`, measured with the upstream server's own /encode (which
   * wraps any text in a fixed conversation) minus what it answers for an empty text.
   */
  async countUpstreamTokens(text: string): Promise<number> {
    this.upstreamOverhead ??= await this.upstreamEncodedLength('');
    return Math.max(0, (await this.upstreamEncodedLength(text)) - this.upstreamOverhead);
  }

  /** True when the tokenizer answers GET /bos_id now (whatever the supervisor's state). Never throws. */
  async health(): Promise<boolean> {
    try {
      const response = await this.http.get(this.url('/bos_id'), { timeout: this.options.tokenizer.healthTimeoutMs });
      return response.status === 200;
    } catch {
      return false;
    }
  }

  private request(command: { type: 'register'; request: RegisterPromptRequest } | { type: 'report'; handle: string }): Promise<Reply> {
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      try {
        if (command.type === 'register') this.supervisor.register({ ...command, id });
        else this.supervisor.send({ ...command, id } as TokenizerCommand);
      } catch (error) {
        this.pending.delete(id);
        reject(error as Error);
      }
    });
  }

  private onMessage(message: TokenizerProcessMessage): void {
    if (message.type === 'turn-end') {
      this.endedTurns.set(message.handle, message.generatedIds);
      while (this.endedTurns.size > ENDED_TURNS_KEPT) this.endedTurns.delete(this.endedTurns.keys().next().value as string);
      return;
    }
    if (!('id' in message)) return;
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    pending.resolve(message);
  }

  private failPending(reason: string): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const waiter of pending) waiter.reject(new TokenizerUnavailableError(reason));
  }

  private url(path: string): string {
    return `http://${this.options.tokenizer.host}:${this.supervisor.snapshot().port}${path}`;
  }
}
