import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { ModelService } from '@qwen/model';
import { TokenizerSupervisor } from '@qwen/tokenizer';

/**
 * Stops the service in order whatever asked for it (Ctrl-C, systemd's SIGTERM, stop_qwen.sh):
 * requests waiting or in flight are answered "the service is shutting down" (503 in their API's
 * shape), the runner quits with "q", then the tokenizer it depends on stops. Runs BEFORE Nest closes
 * the HTTP listeners, which waits for open responses: a stream in flight would otherwise hold the
 * shutdown until it ended by itself.
 */
@Injectable()
export class OrderlyShutdown implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Shutdown');

  constructor(
    private readonly model: ModelService,
    private readonly tokenizer: TokenizerSupervisor,
  ) {}

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    if (signal) this.logger.log(`${signal} received: stopping (requests in flight are answered "shutting down"), then the runner, then the tokenizer`);
    await this.model.shutdown({ force: true });
    await this.tokenizer.stop();
  }
}
