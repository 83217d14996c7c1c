import { DynamicModule, Module } from '@nestjs/common';
import { CHAT_OPTIONS, ChatModuleOptions } from '../chat.options';
import { StructuredOutputValidator } from '@qwen/tools';
import { AssistantTurn } from '../assistant/assistant-turn';
import { ApiKeys } from '../common/api-keys';
import { ChatPipeline } from './chat-pipeline';
import { ModelCatalog } from './model-catalog';

/**
 * The shared part of both dialects. Global, so the dialect modules (OpenAiModule, OllamaModule)
 * inject ChatPipeline, AssistantTurn, ModelCatalog and ApiKeys without importing it.
 */
@Module({})
export class ChatPipelineModule {
  static register(options: ChatModuleOptions): DynamicModule {
    return {
      module: ChatPipelineModule,
      global: true,
      providers: [{ provide: CHAT_OPTIONS, useValue: options }, StructuredOutputValidator, AssistantTurn, ChatPipeline, ModelCatalog, ApiKeys],
      exports: [AssistantTurn, ChatPipeline, ModelCatalog, ApiKeys],
    };
  }
}
