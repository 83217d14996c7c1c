import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { CHAT_OPTIONS, ChatModuleOptions } from '../chat.options';
import { ChatClock } from './chat-clock';
import { ChatErrorDialects } from './chat-error-dialects';
import { ChatExceptionFilter } from './chat-exception.filter';
import { ChatPipeline } from './chat-pipeline';
import { ModelCatalog } from './model-catalog';

/**
 * The shared part of both dialects. Global, so the dialect modules (OpenAiModule, OllamaModule)
 * inject ChatPipeline, ModelCatalog, ChatErrorDialects, ChatClock and CHAT_OPTIONS without importing it.
 */
@Module({})
export class ChatPipelineModule {
  static register(options: ChatModuleOptions): DynamicModule {
    return {
      module: ChatPipelineModule,
      global: true,
      providers: [
        { provide: CHAT_OPTIONS, useValue: options },
        ChatClock,
        ChatPipeline,
        ModelCatalog,
        ChatErrorDialects,
        { provide: APP_FILTER, useClass: ChatExceptionFilter },
      ],
      exports: [CHAT_OPTIONS, ChatClock, ChatPipeline, ModelCatalog, ChatErrorDialects],
    };
  }
}
