/**
 * The worker thread of the tokenizer process: it holds THE tokenizer (the main thread holds only a
 * byte table for /decode) and does all tokenizer work — rendering, encoding and fitting registrations,
 * and the stateless answer to an /encode line that is not a live handle — so the thread answering
 * the runner never waits for it (nor for the garbage it leaves: a worker has its own heap).
 * It reads the service's registrations straight off their channel (a pipe only the forking service
 * holds the other end of) and answers them there: the main thread never receives, parses or copies
 * a registration; it gets only the fitted ids to store under a handle (PromptRegistrations).
 * Lines go first, and fits run in slices (FittingQueue), so a line never waits for more than a
 * slice. The thread runs at a lower scheduling priority than the thread answering the runner
 * (WORKER_NICE): when they compete for a core, the runner's answer goes first. Started by
 * WorkerPromptFitting.
 */
import { chatTemplateRendererFor, PromptFitter, QwenTokenizer, resolveTokenizerFiles } from '@qwen/tokenizer-engine';
import { setPriority } from 'node:os';
import { Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { collectGarbage, IdleGarbageCollection } from './collect-garbage';
import { FittingQueue } from './fitting-queue';
import { readJsonLines } from './json-lines';
import { PromptRegistrations } from './prompt-registrations';
import { type FittingReady, type FittingWorkerData, type FromFittingWorker, type ToFittingWorker, WORKER_NICE } from './worker-prompt-fitting';

const { modelDir, defaultSystemPrompt, rawPromptSpecialTokens, registrationFd } = workerData as FittingWorkerData;
// On Linux a nice value belongs to a thread: pid 0 = this thread only, not the process. Raising one's
// own nice value is always allowed; should a system refuse it, the worker runs at the process's.
try {
  setPriority(0, WORKER_NICE);
} catch {
  // an optimisation only
}
const files = resolveTokenizerFiles(modelDir);
const tokenizer = QwenTokenizer.load(files);
const renderer = chatTemplateRendererFor(tokenizer, defaultSystemPrompt);
const fitter = new PromptFitter(tokenizer, renderer, { rawPromptSpecialTokens });
const byteTable = tokenizer.byteTable().tables; // also computes maxTokenBytes' scan range once, now
void tokenizer.maxTokenBytes;
collectGarbage();
const port = parentPort!;

// Fitting leaves tens of MB of garbage: collected once the worker is idle (docs/tokenizer.md, Memory).
const idleCollection = new IdleGarbageCollection(() => queue.busy);
const workDone = () => idleCollection.workDone();
const toMain = (message: FromFittingWorker) => port.postMessage(message);
const logError = (message: string) => process.stderr.write(`[tokenizer-server] ERROR ${message}\n`);

// The registration channel: the service's end of it is the only other one (no port, no file).
const channel = registrationFd === null ? null : new Socket({ fd: registrationFd, readable: true, writable: true });
const registrations = new PromptRegistrations({
  fit: (id, request) => queue.add({ id, kind: 'fit', request }),
  store: (fitted) => toMain({ kind: 'store', ...fitted }),
  answer: (answer) => channel?.write(`${JSON.stringify(answer)}\n`),
  logError,
});
const queue = new FittingQueue(
  { fitSteps: (request) => fitter.fitSteps(request), encodeLine: (text) => tokenizer.encodePrompt(renderer.renderSingleUserMessage(text)) },
  {
    line: (reply) => {
      toMain({ kind: 'line', ...reply });
      workDone();
    },
    fit: (reply) => {
      const { id, ...outcome } = reply;
      registrations.fitted(id, outcome);
      workDone();
    },
  },
);
channel?.on('error', (error) => logError(`registration channel: ${error.message}`));
port.on('message', (message: ToFittingWorker) => {
  if (message.kind === 'stored') registrations.stored(message.id, message.response);
  else if (message.kind === 'line') queue.add(message);
  else if (channel) {
    // The main thread has its handle store: registrations can be taken now (they waited in the pipe).
    readJsonLines(channel, (command) => registrations.receive(command), (error) => logError(`a registration that is not JSON was ignored: ${error.message}`));
  }
});
// The table moves to the main thread (transferred, not copied): this thread keeps no copy.
port.postMessage({ ready: true, byteTable, source: files.source, dir: files.dir } satisfies FittingReady, [byteTable.offsets.buffer as ArrayBuffer, byteTable.bytes.buffer as ArrayBuffer]);
