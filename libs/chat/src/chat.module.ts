import { DynamicModule, Module } from '@nestjs/common';
import { HttpEdgeModule } from '@qwen/http';
import { ChatModuleOptions } from './chat.options';
import { OllamaModule } from './ollama/ollama.module';
import { OpenAiModule } from './openai/openai.module';
import { ChatPipelineModule } from './pipeline/chat-pipeline.module';
import { ResponsesModule } from './responses/responses.module';

/**
 * The HTTP chat APIs: the shared ChatPipeline and the dialects on top of it, on the HTTP edge
 * (@qwen/http: apply `applyHttpEdge(app, …)` before listening). Wire it as
 * `ChatModule.register({ model: config.model, apiKeys: config.server.apiKeys, ollama: { modelDir, bodyLimit } })`.
 * A dialect is a module in its folder (e.g. `ollama/ollama.module.ts`) listed in `imports` below.
 */
@Module({})
export class ChatModule {
  static register(options: ChatModuleOptions): DynamicModule {
    return {
      module: ChatModule,
      imports: [HttpEdgeModule, ChatPipelineModule.register(options), OpenAiModule, ResponsesModule, OllamaModule.register(options.ollama)],
    };
  }
}
