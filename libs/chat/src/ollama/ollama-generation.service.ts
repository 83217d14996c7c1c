import { Injectable } from '@nestjs/common';
import { RequestClock, RequestContext } from '@qwen/http';
import { ChatPipeline } from '../pipeline/chat-pipeline';
import { OllamaHttpError } from './ollama-http-error';
import { OllamaModelInfo } from './ollama-model-info';
import { OllamaNdjsonWriter } from './ollama-ndjson.writer';
import type { OllamaGenerationPlan } from './ollama-request.mapper';
import { OllamaGenerationKind, ollamaFinal, ollamaLoaded } from './ollama-responses';

/**
 * Runs an /api/chat or /api/generate request through the shared ChatPipeline (cancellation when
 * the client leaves, the figures of the log line) and answers in Ollama's shapes:
 * NDJSON when streaming (the default), one JSON object otherwise.
 */
@Injectable()
export class OllamaGenerationService {
  constructor(
    private readonly pipeline: ChatPipeline,
    private readonly modelInfo: OllamaModelInfo,
    private readonly clock: RequestClock,
  ) {}

  async run(request: RequestContext, kind: OllamaGenerationKind, plan: OllamaGenerationPlan): Promise<void> {
    this.modelInfo.assertServed(plan.model);
    for (const [name, value] of Object.entries(plan.headers)) request.setHeader(name, value);
    if (!plan.request) {
      this.answerLoad(request, kind, plan.model);
      return;
    }
    if (plan.stream) {
      await this.pipeline.stream(request, plan.request, new OllamaNdjsonWriter(kind, plan.model, () => this.clock.now()), plan.answer);
      return;
    }
    const { text, toolCalls, done } = await this.pipeline.collect(request, plan.request, plan.answer);
    request.res.status(200).json(ollamaFinal(kind, plan.model, this.createdAt(), text, done, toolCalls));
  }

  /** An empty request: Ollama loads the model; ours is loaded once and kept, so this only tells whether it is. */
  private answerLoad(request: RequestContext, kind: OllamaGenerationKind, model: string): void {
    if (!this.modelInfo.isLoaded()) {
      request.setHeader('Retry-After', '10');
      throw new OllamaHttpError(503, `the model is not loaded yet (${this.modelInfo.snapshot().state}); try again shortly`);
    }
    request.res.status(200).json(ollamaLoaded(kind, model, this.createdAt()));
  }

  private createdAt(): string {
    return new Date(this.clock.now()).toISOString();
  }
}
