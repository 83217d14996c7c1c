import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { distinctUntilChanged, filter, Observable, Subscription } from 'rxjs';
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
export class TokenizerBridge implements OnModuleDestroy {
  readonly state$: Observable<TokenizerSnapshot>;
  readonly progress$: Observable<TurnProgress>;
  /** The runner the model runtime last started (undefined: none yet). */
  private runnerPid: number | null | undefined;
  private readonly readyProcesses: Subscription;

  constructor(
    @Inject(TOKENIZER_OPTIONS) private readonly options: TokenizerModuleOptions,
    private readonly supervisor: TokenizerSupervisor,
    private readonly client: TokenizerClient,
  ) {
    this.state$ = supervisor.snapshots$;
    this.progress$ = client.progress$;
    // A new tokenizer process knows no runner: tell it which one is ours.
    this.readyProcesses = supervisor.snapshots$
      .pipe(
        filter((s) => s.state === 'ready'),
        distinctUntilChanged((a, b) => a.pid === b.pid),
      )
      .subscribe(() => {
        if (this.runnerPid !== undefined) this.client.announceRunner(this.runnerPid);
      });
  }

  onModuleDestroy(): void {
    this.readyProcesses.unsubscribe();
  }

  /**
   * The model runtime started a runner (its pid), or has none (null): from now on only that
   * process's connections may start and feed a turn; any other local client gets stateless answers.
   */
  runnerStarted(pid: number | null): void {
    this.runnerPid = pid;
    this.client.announceRunner(pid);
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
