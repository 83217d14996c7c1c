import { Inject, Injectable } from '@nestjs/common';
import { Observable } from 'rxjs';
import { TokenizerClient } from './tokenizer-client';
import { TokenizerSupervisor } from './tokenizer-supervisor';
import type { RegisterPromptRequest, RegisterPromptResponse, TokenizerSnapshot, TurnProgress, TurnUsage } from './tokenizer.contract';
import { TOKENIZER_OPTIONS, TokenizerModuleOptions } from './tokenizer.options';

/**
 * The one door of the service (the model runtime) to the tokenizer dependency: its state, the URL
 * the runner is given, prompt registration, and a turn's progress and usage on one channel.
 * What differs between our server and the upstream one is the supervisor's strategy, not here.
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
    this.progress$ = client.progress$;
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

  /** Changes when the tokenizer process is replaced (a new process knows none of the old handles); null when none is ready. */
  instanceId(): number | null {
    return this.supervisor.instanceId();
  }

  /** Throws ContextLengthExceededError or TokenizerUnavailableError. */
  register(request: RegisterPromptRequest): Promise<RegisterPromptResponse> {
    return this.client.registerPrompt(request);
  }

  /** Forgets a registration that will never be typed. */
  release(handle: string): void {
    this.supervisor.strategy().release(this.client, handle);
  }

  /** Completion tokens of a finished turn: the runner's final /decode (builtin), or counted with upstream /encode. */
  settle(handle: string, printedText: string): Promise<TurnUsage> {
    return this.supervisor.strategy().settle(this.client, handle, printedText);
  }
}
