/**
 * The worker thread of the tokenizer process: it holds THE tokenizer (the main thread holds only a
 * byte table for /decode) and does all tokenizer work — rendering, encoding and fitting registrations,
 * and the stateless answer to an /encode line that is not a live handle — so the thread answering
 * the runner never waits for it (nor for the garbage it leaves: a worker has its own heap).
 * One job per turn of the event loop, line encodes before registrations, so a short encode waits
 * for at most the fit in progress, never for a queue of them. Started by WorkerPromptFitting.
 */
import { chatTemplateRendererFor, PromptFitter, QwenTokenizer, resolveTokenizerFiles } from '@qwen/tokenizer-engine';
import { parentPort, workerData } from 'node:worker_threads';
import { collectLoadGarbage } from './collect-load-garbage';
import type { FittingReady, FittingReply, FittingRequest, FittingWorkerData } from './worker-prompt-fitting';

const { modelDir, defaultSystemPrompt, rawPromptSpecialTokens } = workerData as FittingWorkerData;
const files = resolveTokenizerFiles(modelDir);
const tokenizer = QwenTokenizer.load(files);
const renderer = chatTemplateRendererFor(tokenizer, defaultSystemPrompt);
const fitter = new PromptFitter(tokenizer, renderer, { rawPromptSpecialTokens });
const byteTable = tokenizer.byteTable(); // also computes maxTokenBytes' scan range once, now
void tokenizer.maxTokenBytes;
collectLoadGarbage();
const port = parentPort!;

const lines: FittingRequest[] = [];
const fits: FittingRequest[] = [];
let scheduled = false;

function run(job: FittingRequest): FittingReply {
  try {
    if (job.kind === 'line') return { id: job.id, ids: tokenizer.encodePrompt(renderer.renderSingleUserMessage(job.text)) };
    return { id: job.id, result: fitter.fit(job.request) };
  } catch (error) {
    return { id: job.id, error: (error as Error).message };
  }
}

function next(): void {
  scheduled = false;
  const job = lines.shift() ?? fits.shift();
  if (!job) return;
  port.postMessage(run(job));
  schedule();
}

/** setImmediate: messages that arrived meanwhile are queued before the next job is picked. */
function schedule(): void {
  if (scheduled || (lines.length === 0 && fits.length === 0)) return;
  scheduled = true;
  setImmediate(next);
}

port.on('message', (job: FittingRequest) => {
  (job.kind === 'line' ? lines : fits).push(job);
  schedule();
});
port.postMessage({ ready: true, byteTable: byteTable.tables, source: files.source, dir: files.dir } satisfies FittingReady);
