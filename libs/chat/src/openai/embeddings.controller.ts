import { All, Controller, UseGuards } from '@nestjs/common';
import { ApiKeyGuard } from './api-key.guard';
import { OpenAiError } from './openai-error';

/** `/v1/embeddings`: answered like Ollama's `/api/embed`, a clear 501 (this server loads a chat model only). */
@Controller('v1/embeddings')
@UseGuards(ApiKeyGuard)
export class EmbeddingsController {
  @All()
  create(): never {
    throw new OpenAiError(
      501,
      'embeddings are not supported: this server runs one chat model (Qwen2.5-1.5B-Instruct on the NPU card) and no embedding model',
      'invalid_request_error',
      'not_implemented',
    );
  }
}
