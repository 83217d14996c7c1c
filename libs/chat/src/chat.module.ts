import { DynamicModule, Module } from '@nestjs/common';
import { ChatModuleOptions } from './chat.options';
import { OllamaModule } from './ollama/ollama.module';
import { OpenAiModule } from './openai/openai.module';
import { ChatPipelineModule } from './pipeline/chat-pipeline.module';

/**
 * The HTTP chat APIs: the shared ChatPipeline and the dialects on top of it.
 * Wire it in the app as `ChatModule.register({ model: config.model, server: config.server })`.
 * A dialect is a static module in its folder (e.g. `ollama/ollama.module.ts`) listed in `imports` below.
 */
@Module({})
export class ChatModule {
  static register(options: ChatModuleOptions): DynamicModule {
    return {
      module: ChatModule,
      imports: [ChatPipelineModule.register(options), OpenAiModule, OllamaModule],
      exports: [ChatPipelineModule],
    };
  }
}
