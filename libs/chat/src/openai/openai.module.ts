import { Module } from '@nestjs/common';
import { ApiKeyGuard } from './api-key.guard';
import { ChatCompletionsController } from './chat-completions.controller';
import { EmbeddingsController } from './embeddings.controller';
import { ModelsController } from './models.controller';
import { OpenAiCompletionsService } from './openai-completions.service';
import { OpenAiErrorDialect } from './openai-error';

/**
 * The OpenAI dialect on /v1: chat and legacy completions, models, embeddings (501); errors in OpenAI's shape.
 * Needs the global ChatPipelineModule (ChatModule imports both).
 */
@Module({
  controllers: [ChatCompletionsController, ModelsController, EmbeddingsController],
  providers: [OpenAiCompletionsService, OpenAiErrorDialect, ApiKeyGuard],
})
export class OpenAiModule {}
