import type { TokenizerSourceKind } from '@qwen/tokenizer';
import type { FitRequest, FitResult, TokenByteTableData } from '@qwen/tokenizer-engine';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { PromptFitting, TokenizerServerLogger } from './tokenizer-app';

export interface FittingWorkerData {
  modelDir: string | null;
  defaultSystemPrompt: string | null;
  /** Raw prompts' spelled special tokens become control tokens (trusted operators only). */
  rawPromptSpecialTokens: boolean;
}
/** A registration to fit, or a line to encode as the upstream server would. */
export type FittingRequest = { id: number; kind: 'fit'; request: FitRequest } | { id: number; kind: 'line'; text: string };
export type FittingReply = { id: number; result: FitResult } | { id: number; ids: number[] } | { id: number; error: string };
/** The worker's first message: it has loaded the tokenizer; the table /decode needs, and where the files came from. */
export interface FittingReady {
  ready: true;
  byteTable: TokenByteTableData;
  source: TokenizerSourceKind;
  dir: string;
}

/** The compiled worker, beside this file in dist/. */
const WORKER_ENTRY = join(__dirname, 'registration-worker.js');
/**
 * The worker's young generation, kept small: it holds one tokenizer (~35 MB of old space) and
 * short-lived fitting garbage; a large young generation only adds resident pages.
 */
const WORKER_YOUNG_GENERATION_MB = 4;
/**
 * The worker thread's nice value (Linux: per thread; the main thread keeps the process's): when the
 * worker and the thread answering the runner compete for a core, the runner's call goes first.
 */
export const WORKER_NICE = 10;

type Waiter = { resolve: (reply: FittingReply) => void; reject: (error: Error) => void };

/**
 * The tokenizer in a worker thread (registration-worker.ts): fits registrations and encodes the
 * lines /encode answers statelessly (lines first, fits in slices: FittingQueue). A worker that dies fails what it
 * was doing and is started again for the next job.
 */
export class WorkerPromptFitting implements PromptFitting {
  private worker: Worker | null = null;
  private ready: Promise<FittingReady> | null = null;
  private readonly pending = new Map<number, Waiter>();
  private nextId = 1;
  private closing = false;

  constructor(
    private readonly data: FittingWorkerData,
    private readonly logger: TokenizerServerLogger,
  ) {}

  /** Starts the worker and resolves once it has loaded the tokenizer. */
  start(): Promise<FittingReady> {
    if (this.ready) return this.ready;
    const worker = new Worker(WORKER_ENTRY, { workerData: this.data, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
    this.worker = worker;
    this.ready = new Promise<FittingReady>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', (ready: FittingReady) => {
        worker.off('error', reject);
        resolve(ready);
      });
    });
    this.ready.then(
      () => worker.on('message', (reply: FittingReply) => this.onReply(reply)),
      () => undefined,
    );
    worker.on('error', (error) => this.logger.error(`tokenizer worker failed: ${error.message}`));
    worker.on('exit', (code) => this.onExit(worker, code));
    return this.ready;
  }

  // Not async functions: a suspended one would keep the registration's text alive until the worker answers.
  fit(request: FitRequest): Promise<FitResult> {
    return this.post({ kind: 'fit', request }).then((reply) => {
      if (!('result' in reply)) throw new Error('the tokenizer worker answered a registration without a result');
      return reply.result;
    });
  }

  encodeLine(text: string): Promise<number[]> {
    return this.post({ kind: 'line', text }).then((reply) => {
      if (!('ids' in reply)) throw new Error('the tokenizer worker answered a line without ids');
      return reply.ids;
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.worker?.terminate();
  }

  /** Posts a job (a copy goes to the worker) and resolves with its reply. */
  private post(job: { kind: 'fit'; request: FitRequest } | { kind: 'line'; text: string }): Promise<FittingReply> {
    return this.start().then(() => this.postNow(job));
  }

  private postNow(job: { kind: 'fit'; request: FitRequest } | { kind: 'line'; text: string }): Promise<FittingReply> {
    const id = this.nextId++;
    const reply = new Promise<FittingReply>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.worker!.postMessage({ id, ...job } as FittingRequest);
    return reply.then(failedIfError);
  }

  private onReply(reply: FittingReply): void {
    const waiter = this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id);
    waiter.resolve(reply);
  }

  private onExit(worker: Worker, code: number): void {
    if (worker !== this.worker) return;
    this.worker = null;
    this.ready = null;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const waiter of pending) waiter.reject(new Error(`the tokenizer worker exited (code ${code})`));
    if (!this.closing) this.logger.error(`tokenizer worker exited (code ${code}); a new one starts with the next job`);
  }
}

function failedIfError(reply: FittingReply): FittingReply {
  if ('error' in reply) throw new Error(reply.error);
  return reply;
}
