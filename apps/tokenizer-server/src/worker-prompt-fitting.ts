import type { FitRequest, FitResult } from '@qwen/tokenizer-engine';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { PromptFitting, TokenizerServerLogger } from './tokenizer-app';

export interface FittingWorkerData {
  modelDir: string | null;
  defaultSystemPrompt: string | null;
  /** Raw prompts' spelled special tokens become control tokens (trusted operators only). */
  rawPromptSpecialTokens: boolean;
}
export interface FittingRequest {
  id: number;
  request: FitRequest;
}
export type FittingReply = { id: number; result: FitResult } | { id: number; error: string };

/** The compiled worker, beside this file in dist/. */
const WORKER_ENTRY = join(__dirname, 'registration-worker.js');

/**
 * Fits registrations in a worker thread (registration-worker.ts), one at a time in arrival order.
 * A worker that dies fails what it was doing and is started again for the next registration.
 */
export class WorkerPromptFitting implements PromptFitting {
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private readonly pending = new Map<number, { resolve: (result: FitResult) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private closing = false;

  constructor(
    private readonly data: FittingWorkerData,
    private readonly logger: TokenizerServerLogger,
  ) {}

  /** Starts the worker and resolves once it has loaded the tokenizer. */
  start(): Promise<void> {
    if (this.ready) return this.ready;
    const worker = new Worker(WORKER_ENTRY, { workerData: this.data });
    this.worker = worker;
    this.ready = new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', () => {
        worker.off('error', reject);
        resolve();
      });
    });
    this.ready.then(
      () => worker.on('message', (reply: FittingReply) => this.onReply(reply)),
      () => undefined,
    );
    worker.on('error', (error) => this.logger.error(`registration worker failed: ${error.message}`));
    worker.on('exit', (code) => this.onExit(worker, code));
    return this.ready;
  }

  async fit(request: FitRequest): Promise<FitResult> {
    await this.start();
    const id = this.nextId++;
    return new Promise<FitResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker!.postMessage({ id, request } satisfies FittingRequest);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.worker?.terminate();
  }

  private onReply(reply: FittingReply): void {
    const waiter = this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id);
    if ('error' in reply) waiter.reject(new Error(reply.error));
    else waiter.resolve(reply.result);
  }

  private onExit(worker: Worker, code: number): void {
    if (worker !== this.worker) return;
    this.worker = null;
    this.ready = null;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const waiter of pending) waiter.reject(new Error(`the registration worker exited (code ${code})`));
    if (!this.closing) this.logger.error(`registration worker exited (code ${code}); a new one starts with the next registration`);
  }
}
