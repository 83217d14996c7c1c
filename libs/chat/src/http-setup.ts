import type { NestExpressApplication } from '@nestjs/platform-express';
import { chatCorsOptions } from './cors';

/**
 * HTTP settings the chat APIs rely on, applied to the Nest app before it listens (app.factory.ts and
 * the tests): the JSON body parser with the configured limit (errors reach ChatExceptionFilter:
 * malformed JSON 400, too large 413) and CORS from the allow-list. No compression middleware is
 * installed, so streamed frames leave as they are written.
 */
export function applyChatHttpSettings(app: NestExpressApplication, settings: { bodyLimit: string; corsOrigins: readonly string[] }): void {
  app.useBodyParser('json', { limit: settings.bodyLimit });
  app.enableCors(chatCorsOptions(settings.corsOrigins));
}
