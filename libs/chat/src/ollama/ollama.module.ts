import { Module } from '@nestjs/common';
import { ApiKeyGuard } from '../openai/api-key.guard';
import { OllamaApiKeyGuard } from './ollama-api-key.guard';
import { OllamaApiController, OllamaRootController } from './ollama.controller';
import { OllamaErrorDialect } from './ollama-errors';
import { OllamaGenerationService } from './ollama-generation.service';
import { OllamaModelFiles } from './ollama-model-files';
import { OllamaModelInfo } from './ollama-model-info';
import { OllamaRequestReader } from './ollama-request-reader';

/**
 * The Ollama dialect on `/` and `/api/*`: chat and generate (NDJSON or JSON), the model endpoints,
 * errors in Ollama's `{"error"}` shape. Needs the global ChatPipelineModule (ChatModule imports both)
 * and the global ModelService; reads `paths.modelDir` and `server.bodyLimit` from APP_CONFIG when present.
 */
@Module({
  controllers: [OllamaRootController, OllamaApiController],
  providers: [ApiKeyGuard, OllamaApiKeyGuard, OllamaErrorDialect, OllamaGenerationService, OllamaModelFiles, OllamaModelInfo, OllamaRequestReader],
})
export class OllamaModule {}
