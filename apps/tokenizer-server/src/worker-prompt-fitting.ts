import type { RegisterPromptResponse, TokenizerSourceKind } from '@qwen/tokenizer';
import type { FitRequest, FitResult, TokenByteTableData } from '@qwen/tokenizer-engine';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { PromptToStore } from './prompt-registrations';
import type { PromptFitting, TokenizerServerLogger } from './tokenizer-app';

export interface FittingWorkerData {
  modelDir: string | null;
  defaultSystemPrompt: string | null;
  /** Raw prompts' spelled special tokens become control tokens (trusted operators only). */
  rawPromptSpecialTokens: boolean;
  /** The service's registration channel (a pipe the forking service holds the other end of), read by the worker; null: none. */
  registrationFd: number | null;
}
/** A job of the worker's queue: a registration to fit, or a line to encode as the upstream server would. */
export type FittingRequest = { id: number; kind: 'fit'; request: FitRequest } | { id: number; kind: 'line'; text: string };
export type LineReply = { id: number; ids: number[] } | { id: number; error: string };
export type FitReply = { id: number; result: FitResult } | { id: number; error: string };
/** The main thread to the worker: take registrations (the handle store is up), a line to encode, or a registration it has stored (its handle is live). */
export type ToFittingWorker =
  | { kind: 'take-registrations' }
  | Extract<FittingRequest, { kind: 'line' }>
  | { kind: 'stored'; id: number; response: RegisterPromptResponse };
/** The worker to the main thread: a line's ids, or a fitted registration to store. */
export type FromFittingWorker = ({ kind: 'line' } & LineReply) | ({ kind: 'store' } & PromptToStore);
/** The worker's first message: it has loaded the tokenizer; the table /decode needs, and where the files came from. */
export interface FittingReady {
  ready: true;
  byteTable: TokenByteTableData;
  source: TokenizerSourceKind;
  dir: string;
}

/** Stores a fitted registration in the handle store; its answer (with the live handle) goes back to the worker. */
export type StorePrompt = (fitted: PromptToStore) => RegisterPromptResponse;

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

type Waiter = { resolve: (ids: number[]) => void; reject: (error: Error) => void };

/**
 * The tokenizer in a worker thread (registration-worker.ts). The worker reads the service's
 * registrations off their own channel and fits them; this thread only stores the fitted ids
 * (`takeRegistrations`) and asks it for the lines /encode answers statelessly. The worker is started
 * once: when it dies, the registration channel is closed with it (the fd was its own), so the process
 * has to be started again (`lost`), which gives a fresh channel.
 */
export class WorkerPromptFitting implements PromptFitting {
  private worker: Worker | null = null;
  private ready: Promise<FittingReady> | null = null;
  private readonly pending = new Map<number, Waiter>();
  private nextId = 1;
  private closing = false;
  private store: StorePrompt | null = null;

  constructor(
    private readonly data: FittingWorkerData,
    /** The worker is gone, and the registration channel it read with it: the process cannot go on. */
    private readonly lost: (reason: string) => void,
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
      () => {
        worker.on('message', (message: FromFittingWorker) => this.onMessage(message));
        worker.on('exit', (code) => this.onExit(code));
      },
      () => undefined, // start() fails: the process says why and does not start
    );
    worker.on('error', (error) => this.logger.error(`tokenizer worker failed: ${error.message}`));
    return this.ready;
  }

  /** Lets the worker read the registration channel, once the handle store (`store`) can take what it fits. */
  takeRegistrations(store: StorePrompt): void {
    this.store = store;
    this.worker?.postMessage({ kind: 'take-registrations' } satisfies ToFittingWorker);
  }

  encodeLine(text: string): Promise<number[]> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new Error('the tokenizer worker is not running'));
    const id = this.nextId++;
    const ids = new Promise<number[]>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    worker.postMessage({ kind: 'line', id, text } satisfies ToFittingWorker);
    return ids;
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.worker?.terminate();
  }

  private onMessage(message: FromFittingWorker): void {
    if (message.kind === 'store') {
      const response = this.store!(message); // the worker takes registrations only once it is set
      this.worker?.postMessage({ kind: 'stored', id: message.id, response } satisfies ToFittingWorker);
      return;
    }
    const waiter = this.pending.get(message.id);
    if (!waiter) return;
    this.pending.delete(message.id);
    if ('error' in message) waiter.reject(new Error(message.error));
    else waiter.resolve(message.ids);
  }

  private onExit(code: number): void {
    this.worker = null;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const waiter of pending) waiter.reject(new Error(`the tokenizer worker exited (code ${code})`));
    if (!this.closing) this.lost(`tokenizer worker exited (code ${code})`);
  }
}
