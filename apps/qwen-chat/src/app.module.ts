import { DynamicModule, Module } from '@nestjs/common';
import { AdminModule } from '@qwen/admin';
import { ChatModule } from '@qwen/chat';
import { AppConfig, ConfigSources, QwenConfigModule } from '@qwen/config';
import { HealthModule, MetricsModule } from '@qwen/health';
import { HttpEdgeModule } from '@qwen/http';
import { ModelModule } from '@qwen/model';
import { TokenizerModule } from '@qwen/tokenizer';
import { UiModule } from '@qwen/ui';
import { AppExtras, moduleOptionsOf } from './module-options';
import { OrderlyShutdown } from './orderly-shutdown';
import { ReadinessAnnouncer } from './readiness-announcer';
import { Clock } from '@qwen/supervision';

/** The qwen-chat service: every module wired with its slice of the validated configuration (moduleOptionsOf). */
@Module({})
export class AppModule {
  static register(config: AppConfig, sources: ConfigSources, extras: AppExtras = {}): DynamicModule {
    const options = moduleOptionsOf(config, extras);
    return {
      module: AppModule,
      imports: [
        QwenConfigModule.register(config, sources),
        HttpEdgeModule,
        TokenizerModule.register(options.tokenizer),
        ModelModule.register(options.model),
        ChatModule.register(options.chat),
        MetricsModule,
        HealthModule.register(options.health),
        AdminModule.register({ reloadOptions: (reread) => moduleOptionsOf(reread, extras) }),
        UiModule,
      ],
      providers: [Clock, ReadinessAnnouncer, OrderlyShutdown],
    };
  }
}
