import { DynamicModule, Module } from '@nestjs/common';
import { CHAT_OPTIONS, ChatModuleOptions } from '../chat.options';
import { ApiKeys } from '../common/api-keys';
import { ChatPipeline } from './chat-pipeline';
import { ModelCatalog } from './model-catalog';

/**
 * The shared part of both dialects. Global, so the dialect modules (OpenAiModule, OllamaModule)
 * inject ChatPipeline, ModelCatalog and ApiKeys without importing it.
 */
@Module({})
export class ChatPipelineModule {
  static register(options: ChatModuleOptions): DynamicModule {
    return {
      module: ChatPipelineModule,
      global: true,
      providers: [{ provide: CHAT_OPTIONS, useValue: options }, ChatPipeline, ModelCatalog, ApiKeys],
      exports: [ChatPipeline, ModelCatalog, ApiKeys],
    };
  }
}
