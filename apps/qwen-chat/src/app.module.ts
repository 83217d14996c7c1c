import { DynamicModule, Module } from '@nestjs/common';
import { AdminModule } from '@qwen/admin';
import { ChatModule } from '@qwen/chat';
import { AppConfig, ConfigSources, QwenConfigModule } from '@qwen/config';
import { HealthModule, MetricsModule } from '@qwen/health';
import { HttpEdgeModule } from '@qwen/http';
import { ModelModule } from '@qwen/model';
import { TokenizerModule } from '@qwen/tokenizer';

/** The qwen-chat service: every module wired with its slice of the validated configuration. */
@Module({})
export class AppModule {
  static register(config: AppConfig, sources: ConfigSources, extra: { runnerEnv?: Record<string, string> } = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        QwenConfigModule.register(config, sources),
        TokenizerModule.register({ tokenizer: config.tokenizer, paths: config.paths }),
        ModelModule.register({ model: config.model, paths: config.paths, tokenizer: config.tokenizer, runnerEnv: extra.runnerEnv }),
        HttpEdgeModule,
        ChatModule.register({
          model: config.model,
          apiKeys: config.server.apiKeys,
          ollama: { modelDir: config.paths.modelDir, bodyLimit: config.server.bodyLimit },
        }),
        MetricsModule,
        HealthModule.register({ npu: config.npu }),
        AdminModule.register({}),
      ],
    };
  }
}
