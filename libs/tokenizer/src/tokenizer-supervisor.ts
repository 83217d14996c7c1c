import { Inject, Injectable } from '@nestjs/common';
import { BehaviorSubject, Observable, Subject } from 'rxjs';
import { TokenizerEvent, TokenizerSnapshot } from './tokenizer.contract';
import { TOKENIZER_OPTIONS, TokenizerModuleOptions } from './tokenizer.options';

/**
 * Starts, health-checks and restarts the tokenizer server process.
 * SKELETON: the API is final, the implementation lands with TokenizerModule.
 */
@Injectable()
export class TokenizerSupervisor {
  private readonly snapshotSubject: BehaviorSubject<TokenizerSnapshot>;
  private readonly eventSubject = new Subject<TokenizerEvent>();

  constructor(@Inject(TOKENIZER_OPTIONS) private readonly options: TokenizerModuleOptions) {
    this.snapshotSubject = new BehaviorSubject<TokenizerSnapshot>({
      state: 'stopped',
      mode: options.tokenizer.mode,
      pid: null,
      port: options.tokenizer.port,
      restarts: 0,
      lastError: null,
      source: null,
      limitations: [],
    });
  }

  snapshot(): TokenizerSnapshot {
    return this.snapshotSubject.value;
  }

  /** Emits every state change. */
  get snapshots$(): Observable<TokenizerSnapshot> {
    return this.snapshotSubject.asObservable();
  }

  /** Messages from the tokenizer server process (IPC): ready, turn-start, tokens. */
  get events$(): Observable<TokenizerEvent> {
    return this.eventSubject.asObservable();
  }

  /** Resolves when the tokenizer answers GET /bos_id (immediately if it already does). */
  async whenReady(): Promise<void> {
    throw new Error('not implemented yet');
  }

  /** Stops the process and starts it again (with new options if given); resolves when ready. */
  async restart(_reason: string, _options?: TokenizerModuleOptions): Promise<void> {
    throw new Error('not implemented yet');
  }

  /** Stops the process for good (SIGTERM, then SIGKILL); never leaves it orphaned. */
  async stop(): Promise<void> {
    throw new Error('not implemented yet');
  }
}
