import { Global, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ErrorDialects } from './error-dialects';
import { HttpExceptionFilter } from './http-exception.filter';
import { RequestClock } from './request-clock';
import { RequestContexts } from './request-contexts';

/**
 * The HTTP edge shared by every API: request contexts, the error dialects and the global exception
 * filter that uses them. Global, so a dialect module (OpenAiModule, OllamaModule…) injects
 * ErrorDialects and RequestClock without importing it. Apply `applyHttpEdge(app, …)` before listening.
 */
@Global()
@Module({
  providers: [RequestClock, ErrorDialects, RequestContexts, { provide: APP_FILTER, useClass: HttpExceptionFilter }],
  exports: [RequestClock, ErrorDialects, RequestContexts],
})
export class HttpEdgeModule {}
