import { DynamicModule, Module } from '@nestjs/common';
import { OllamaApiKeyGuard } from './ollama-api-key.guard';
import { OllamaApiController, OllamaRootController } from './ollama.controller';
import { OllamaErrorDialect } from './ollama-errors';
import { OllamaGenerationService } from './ollama-generation.service';
import { OllamaModelFiles } from './ollama-model-files';
import { OllamaModelInfo } from './ollama-model-info';
import { OllamaRequestReader } from './ollama-request-reader';
import { OLLAMA_OPTIONS, OllamaModuleOptions } from './ollama.options';

/**
 * The Ollama dialect on `/` and `/api/*`: chat and generate (NDJSON or JSON), the model endpoints,
 * errors in Ollama's `{"error"}` shape. Needs the global ChatPipelineModule (ChatModule imports both),
 * HttpEdgeModule and ModelService; reads only its own options (OllamaModuleOptions).
 */
@Module({})
export class OllamaModule {
  static register(options: OllamaModuleOptions): DynamicModule {
    return {
      module: OllamaModule,
      controllers: [OllamaRootController, OllamaApiController],
      providers: [
        { provide: OLLAMA_OPTIONS, useValue: options },
        OllamaApiKeyGuard,
        OllamaErrorDialect,
        OllamaGenerationService,
        OllamaModelFiles,
        OllamaModelInfo,
        OllamaRequestReader,
      ],
    };
  }
}
