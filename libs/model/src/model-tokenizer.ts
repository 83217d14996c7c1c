import { Inject, Injectable } from '@nestjs/common';
import { TokenizerClient, TokenizerSupervisor } from '@qwen/tokenizer';
import type { RegisterPromptRequest, RegisterPromptResponse, TokenizerSnapshot } from '@qwen/tokenizer';
import { filter, map, Observable } from 'rxjs';
import { MODEL_OPTIONS, ModelModuleOptions } from './model.options';

/**
 * A turn's progress as the tokenizer sees the runner's calls (BRIEF seam 4: `TurnProgress` of
 * `@qwen/tokenizer`'s TokenizerBridge; declared here until that facade lands).
 */
export type TurnProgress =
  | { type: 'turn-start'; handle: string; promptTokens: number }
  | { type: 'tokens'; handle: string; generated: number; limitReached: boolean }
  | { type: 'turn-end'; handle: string; generatedIds: number }
  | { type: 'unknown-line' };

export interface TurnUsage {
  completionTokens: number;
}

/**
 * Everything the model runtime needs from the tokenizer dependency, and nothing else: the shape of
 * the TokenizerBridge facade (BRIEF seam 4). The model runtime injects THIS token only; ModelModule
 * binds it to the facade.
 */
export abstract class ModelTokenizer {
  abstract readonly state$: Observable<TokenizerSnapshot>;
  abstract snapshot(): TokenizerSnapshot;
  abstract whenReady(): Promise<void>;
  /** The value for the runner's --filename_tokenizer_model. */
  abstract runnerUrl(): string;
  /** Changes when the tokenizer process restarts (it forgets every handle). */
  abstract instanceId(): number | null;
  /** Throws ContextLengthExceededError | TokenizerUnavailableError. */
  abstract register(request: RegisterPromptRequest): Promise<RegisterPromptResponse>;
  /** Forgets a registration that will never be typed. */
  abstract release(handle: string): void;
  abstract readonly progress$: Observable<TurnProgress>;
  /** The completion tokens of a finished turn. */
  abstract settle(handle: string, printedText: string): Promise<TurnUsage>;
}

/**
 * ModelTokenizer over today's TokenizerClient and TokenizerSupervisor, until the tokenizer library
 * exports its TokenizerBridge (then ModelModule binds ModelTokenizer to it and this class goes).
 */
@Injectable()
export class TokenizerBridgeAdapter extends ModelTokenizer {
  readonly state$: Observable<TokenizerSnapshot>;
  readonly progress$: Observable<TurnProgress>;

  constructor(
    @Inject(MODEL_OPTIONS) private readonly options: ModelModuleOptions,
    private readonly supervisor: TokenizerSupervisor,
    private readonly client: TokenizerClient,
  ) {
    super();
    this.state$ = supervisor.snapshots$;
    this.progress$ = supervisor.events$.pipe(
      filter((event) => event.type !== 'ready'),
      map((event) => event as TurnProgress),
    );
  }

  snapshot(): TokenizerSnapshot {
    return this.supervisor.snapshot();
  }

  whenReady(): Promise<void> {
    return this.supervisor.whenReady();
  }

  runnerUrl(): string {
    return `http://${this.options.tokenizer.host}:${this.options.tokenizer.port}`;
  }

  instanceId(): number | null {
    return this.supervisor.snapshot().pid;
  }

  register(request: RegisterPromptRequest): Promise<RegisterPromptResponse> {
    return this.client.registerPrompt(request);
  }

  /** Today's tokenizer server expires unused handles on its own; nothing to send. */
  release(): void {}

  /** Builtin: the ids of the runner's final /decode; upstream (keeps no turns): the printed text, counted. */
  async settle(handle: string, printedText: string): Promise<TurnUsage> {
    if (this.supervisor.snapshot().mode === 'upstream') return { completionTokens: await this.client.countUpstreamTokens(printedText) };
    return { completionTokens: (await this.client.turn(handle)).generatedIds.length };
  }
}
