/**
 * The worker thread of the tokenizer process that renders, encodes and fits registrations, so the
 * thread answering the runner never waits for them (nor for the garbage they leave: a worker has its
 * own heap). Started by WorkerPromptFitting with the same tokenizer files as the main thread.
 */
import { chatTemplateRendererFor, PromptFitter, QwenTokenizer, resolveTokenizerFiles } from '@qwen/tokenizer-engine';
import { parentPort, workerData } from 'node:worker_threads';
import { collectLoadGarbage } from './collect-load-garbage';
import type { FittingReply, FittingRequest, FittingWorkerData } from './worker-prompt-fitting';

const { modelDir, defaultSystemPrompt, rawPromptSpecialTokens } = workerData as FittingWorkerData;
const tokenizer = QwenTokenizer.load(resolveTokenizerFiles(modelDir));
const fitter = new PromptFitter(tokenizer, chatTemplateRendererFor(tokenizer, defaultSystemPrompt), { rawPromptSpecialTokens });
void tokenizer.maxTokenBytes; // computed once now rather than during the first registration
collectLoadGarbage();
const port = parentPort!;

port.on('message', ({ id, request }: FittingRequest) => {
  let reply: FittingReply;
  try {
    reply = { id, result: fitter.fit(request) };
  } catch (error) {
    reply = { id, error: (error as Error).message };
  }
  port.postMessage(reply);
});
port.postMessage({ ready: true });
