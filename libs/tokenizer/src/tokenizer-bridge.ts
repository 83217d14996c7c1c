import { Inject, Injectable } from '@nestjs/common';
import { filter, map, Observable } from 'rxjs';
import { TokenizerClient } from './tokenizer-client';
import { TokenizerSupervisor } from './tokenizer-supervisor';
import type { RegisterPromptRequest, RegisterPromptResponse, TokenizerEvent, TokenizerSnapshot, TurnProgress, TurnUsage } from './tokenizer.contract';
import { TOKENIZER_OPTIONS, TokenizerModuleOptions } from './tokenizer.options';

/**
 * The one door of the service (ModelService and its collaborators) to the tokenizer dependency:
 * its state, the URL the runner is given, prompt registration and a turn's progress and usage.
 */
@Injectable()
export class TokenizerBridge {
  readonly state$: Observable<TokenizerSnapshot>;
  readonly progress$: Observable<TurnProgress>;

  constructor(
    @Inject(TOKENIZER_OPTIONS) private readonly options: TokenizerModuleOptions,
    private readonly supervisor: TokenizerSupervisor,
    private readonly client: TokenizerClient,
  ) {
    this.state$ = supervisor.snapshots$;
    this.progress$ = supervisor.events$.pipe(
      filter((event): event is Exclude<TokenizerEvent, { type: 'ready' }> => event.type !== 'ready'),
      map((event): TurnProgress => event),
    );
  }

  snapshot(): TokenizerSnapshot {
    return this.supervisor.snapshot();
  }

  whenReady(): Promise<void> {
    return this.supervisor.whenReady();
  }

  /** The value of the runner's --filename_tokenizer_model. */
  runnerUrl(): string {
    return `http://${this.options.tokenizer.host}:${this.supervisor.snapshot().port}`;
  }

  /** Changes when the tokenizer process is replaced (a new process knows none of the old handles); null when none runs. */
  instanceId(): number | null {
    const snapshot = this.supervisor.snapshot();
    return snapshot.state === 'ready' ? snapshot.pid : null;
  }

  /** Throws ContextLengthExceededError or TokenizerUnavailableError. */
  register(request: RegisterPromptRequest): Promise<RegisterPromptResponse> {
    return this.client.registerPrompt(request);
  }

  /** Forgets a registration that will never be typed (its handle expires on its own today). */
  release(handle: string): void {
    void handle;
  }

  /** Completion tokens of a finished turn: the runner's final /decode (builtin), or counted with upstream /encode. */
  async settle(handle: string, printedText: string): Promise<TurnUsage> {
    if (this.supervisor.snapshot().mode === 'upstream') return { completionTokens: await this.client.countUpstreamTokens(printedText) };
    return { completionTokens: (await this.client.turn(handle)).generatedIds.length };
  }
}
