import { Injectable } from '@nestjs/common';

/**
 * Closes the whole application (HTTP listeners, then every module's shutdown hook). The Nest
 * application does not exist while its modules are built, so the bootstrap code attaches the
 * close function once it has started the app (apps/qwen-chat/src/app.factory.ts).
 */
@Injectable()
export class ApplicationCloser {
  private closeApp: (() => Promise<void>) | null = null;

  attach(close: () => Promise<void>): void {
    this.closeApp = close;
  }

  async close(): Promise<void> {
    await this.closeApp?.();
  }
}
