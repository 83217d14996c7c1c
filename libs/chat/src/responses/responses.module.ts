import { Module } from '@nestjs/common';
import { ApiKeyGuard } from '../openai/api-key.guard';
import { OpenAiResponsesService } from './openai-responses.service';
import { ResponsesController } from './responses.controller';

/**
 * The OpenAI Responses API on /v1/responses (errors from OpenAI's table, mounted on /v1 by OpenAiModule).
 * Needs the global ChatPipelineModule (ChatModule imports both).
 */
@Module({
  controllers: [ResponsesController],
  providers: [OpenAiResponsesService, ApiKeyGuard],
})
export class ResponsesModule {}
