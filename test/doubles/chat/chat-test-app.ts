import { Global, INestApplication, Module } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { ChatModule, ChatModuleOptions } from '@qwen/chat';
import { MetricsService, RequestObservation } from '@qwen/health';
import { applyHttpEdge, HttpEdgeModule } from '@qwen/http';
import { ModelService } from '@qwen/model';
import { FakeModelService } from './fake-model.service';

export interface ChatTestAppOptions {
  apiKeys?: string[];
  acceptAnyModelName?: boolean;
  corsOrigins?: string[];
  bodyLimit?: string;
  /** `chat.jsonRetries` (default 1). */
  structuredOutputRetries?: number;
}

export interface ChatTestApp {
  app: INestApplication;
  model: FakeModelService;
  /** What the pipeline reported to MetricsService.observeRequest, in order. */
  observations: RequestObservation[];
  /** Base URL when started with listen: true. */
  url: string;
  close(): Promise<void>;
}

/** A Nest app with the HTTP edge and ChatModule over a FakeModelService (no runner, no tokenizer). */
export async function createChatTestApp(options: ChatTestAppOptions = {}, listen = false): Promise<ChatTestApp> {
  const model = new FakeModelService();
  const observations: RequestObservation[] = [];
  const metrics: Pick<MetricsService, 'observeRequest'> = { observeRequest: (o) => void observations.push(o) };

  @Global()
  @Module({
    providers: [
      { provide: ModelService, useValue: model },
      { provide: MetricsService, useValue: metrics },
    ],
    exports: [ModelService, MetricsService],
  })
  class FakeModelModule {}

  const chatOptions: ChatModuleOptions = {
    model: { id: 'qwen2.5', aliases: ['Qwen/Qwen2.5-1.5B-Instruct', 'qwen2.5:1.5b'], acceptAnyModelName: options.acceptAnyModelName ?? true, nonStreamedMaxWaitMs: 60000 },
    apiKeys: options.apiKeys ?? [],
    structuredOutputRetries: options.structuredOutputRetries ?? 1,
    ollama: { modelDir: null, bodyLimit: options.bodyLimit ?? '1mb', version: '0.6.4' },
  };
  const corsOrigins = options.corsOrigins ?? ['http://localhost', 'app://*'];
  const moduleRef = await Test.createTestingModule({ imports: [FakeModelModule, HttpEdgeModule, ChatModule.register(chatOptions)] }).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false, logger: false });
  app.disable('x-powered-by');
  applyHttpEdge(app, { bodyLimit: options.bodyLimit ?? '1mb', corsOrigins });
  let url = '';
  if (listen) {
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
    url = url.replace('[::1]', '127.0.0.1');
  } else {
    await app.init();
  }
  return { app, model, observations, url, close: () => app.close() };
}
