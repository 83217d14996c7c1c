import type { RegisterPromptRequest, RegisterPromptResponse, TokenizerBridge, TokenizerSnapshot, TurnProgress, TurnUsage } from '@qwen/tokenizer';
import { BehaviorSubject, Subject } from 'rxjs';

/**
 * TokenizerBridge as the model runtime uses it (pass it `as unknown as TokenizerBridge`): registrations are recorded and answered with
 * handles qh-1, qh-2, …; progress is pushed by the test; settle answers `completionTokens`.
 */
export class FakeTokenizerBridge implements Pick<TokenizerBridge, keyof TokenizerBridge> {
  readonly registered: RegisterPromptRequest[] = [];
  readonly released: string[] = [];
  readonly settled: string[] = [];
  readonly progress = new Subject<TurnProgress>();
  readonly progress$ = this.progress.asObservable();
  readonly snapshots = new BehaviorSubject<TokenizerSnapshot>({
    state: 'ready',
    mode: 'builtin',
    pid: 42,
    port: 12345,
    restarts: 0,
    lastError: null,
    source: 'npm-package',
    limitations: [],
  });
  readonly state$ = this.snapshots.asObservable();
  /** Instance id (the tokenizer process); change it to pretend a restart. */
  instance: number | null = 42;
  completionTokens = 3;
  /** How long a handle lives, from `now()`. */
  handleLifetimeMs = 120_000;
  /** Replace to make register fail, or wait. */
  registerBehaviour: (request: RegisterPromptRequest, handle: string) => Promise<RegisterPromptResponse>;
  /** Replace to make settle wait or fail. */
  settleBehaviour: (handle: string) => Promise<TurnUsage> = async () => ({ completionTokens: this.completionTokens });

  constructor(private readonly now: () => number) {
    this.registerBehaviour = async (request, handle) => ({
      handle,
      promptTokens: 30,
      maxTokens: request.maxTokens ?? 994,
      droppedMessages: 0,
      expiresAt: this.now() + this.handleLifetimeMs,
    });
  }

  snapshot(): TokenizerSnapshot {
    return this.snapshots.value;
  }
  async whenReady(): Promise<void> {}
  runnerUrl(): string {
    return 'http://127.0.0.1:12345';
  }
  instanceId(): number | null {
    return this.instance;
  }
  register(request: RegisterPromptRequest): Promise<RegisterPromptResponse> {
    this.registered.push(request);
    return this.registerBehaviour(request, `qh-${this.registered.length}`);
  }
  /** Runner pids announced by the model runtime. */
  readonly runners: (number | null)[] = [];
  runnerStarted(pid: number | null): void {
    this.runners.push(pid);
  }
  onModuleDestroy(): void {}
  release(handle: string): void {
    this.released.push(handle);
  }
  settle(handle: string): Promise<TurnUsage> {
    this.settled.push(handle);
    return this.settleBehaviour(handle);
  }
}
