import type { FitRequest, FitResult, WorkSteps } from '@qwen/tokenizer-engine';
import { performance } from 'node:perf_hooks';
import type { FitReply, FittingRequest, LineReply } from './worker-prompt-fitting';

/** The tokenizer work of the worker thread. */
export interface FittingWork {
  /** A registration's fit, a step at a time. */
  fitSteps(request: FitRequest): WorkSteps<FitResult>;
  /** The upstream server's answer to a line (at most a terminal line: done at once). */
  encodeLine(text: string): number[];
}

/** How long a fit runs before the queue looks for lines again (a line waits at most about this long). */
export const FIT_SLICE_MS = 4;

type FitJob = Extract<FittingRequest, { kind: 'fit' }>;
type LineJob = Extract<FittingRequest, { kind: 'line' }>;

/**
 * The worker thread's jobs, in the order that keeps the runner waiting least: a line (the runner's
 * /encode of text that is not a live handle) is encoded as soon as the thread is free, while
 * registrations are fitted one at a time in slices of FIT_SLICE_MS — between slices the thread's
 * event loop runs, so a line that arrives during a long fit is answered before the fit goes on.
 */
export class FittingQueue {
  private readonly lines: LineJob[] = [];
  private readonly fits: FitJob[] = [];
  private current: { id: number; steps: WorkSteps<FitResult> } | null = null;
  private scheduled = false;

  constructor(
    private readonly work: FittingWork,
    private readonly replies: { line(reply: LineReply): void; fit(reply: FitReply): void },
    private readonly now: () => number = () => performance.now(),
  ) {}

  add(job: FittingRequest): void {
    if (job.kind === 'line') this.lines.push(job);
    else this.fits.push(job);
    this.schedule();
  }

  /** True while a job is queued or a fit is under way. */
  get busy(): boolean {
    return this.current !== null || this.lines.length > 0 || this.fits.length > 0;
  }

  private next(): void {
    this.scheduled = false;
    const line = this.lines.shift();
    if (line) this.replies.line(this.encode(line));
    else this.fitSlice();
    this.schedule();
  }

  private encode(job: LineJob): LineReply {
    try {
      return { id: job.id, ids: this.work.encodeLine(job.text) };
    } catch (error) {
      return { id: job.id, error: (error as Error).message };
    }
  }

  /** Runs the current fit (or the next one) for one slice. */
  private fitSlice(): void {
    if (!this.current) {
      const job = this.fits.shift();
      if (!job) return;
      this.current = { id: job.id, steps: this.work.fitSteps(job.request) };
    }
    const { id, steps } = this.current;
    const deadline = this.now() + FIT_SLICE_MS;
    try {
      for (;;) {
        const step = steps.next();
        if (step.done) {
          this.current = null;
          this.replies.fit({ id, result: step.value });
          return;
        }
        if (this.now() >= deadline) return;
      }
    } catch (error) {
      this.current = null;
      this.replies.fit({ id, error: (error as Error).message });
    }
  }

  /** setImmediate: messages that arrived meanwhile are queued before the next job or slice is picked. */
  private schedule(): void {
    if (this.scheduled || !this.busy) return;
    this.scheduled = true;
    setImmediate(() => this.next());
  }
}
