import type { NestExpressApplication } from '@nestjs/platform-express';
import { corsOptionsFor } from './cors';
import { RequestContexts } from './request-contexts';

/**
 * The HTTP edge, applied to the Nest app before it listens (app.factory.ts and the tests), in this
 * order: the RequestContext of every request (id, `X-Request-Id`, the one log line, metrics), the
 * JSON body parser with the configured limit (errors reach HttpExceptionFilter: malformed JSON 400,
 * too large 413) and CORS from the allow-list. No compression middleware is installed, so streamed
 * frames leave as they are written. Needs HttpEdgeModule in the app.
 */
export function applyHttpEdge(app: NestExpressApplication, settings: { bodyLimit: string; corsOrigins: readonly string[] }): void {
  app.use(app.get(RequestContexts).middleware());
  app.useBodyParser('json', { limit: settings.bodyLimit, verify: (_req: unknown, _res: unknown, body: Buffer) => assertJsonDepth(body, MAX_JSON_DEPTH) });
  app.enableCors(corsOptionsFor(settings.corsOrigins));
}

/**
 * Deepest JSON nesting accepted. Validation (class-transformer, ValidationPipe) walks bodies
 * recursively: a 20 KB body of 10,000 nested arrays overflowed the stack (a 500). No API body
 * needs more than a few levels.
 */
const MAX_JSON_DEPTH = 64;

/**
 * Throws a 400 (body-parser `verify` error, answered in each dialect's shape) when the raw JSON
 * nests deeper than `max`. One pass over the bytes, skipping strings.
 */
function assertJsonDepth(body: Buffer, max: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    if (inString) {
      if (byte === 0x5c) i++; // backslash: skip the escaped byte
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > max) throw Object.assign(new Error(`JSON nested deeper than ${max} levels`), { status: 400, type: 'entity.too.deep' });
    } else if (byte === 0x5d || byte === 0x7d) depth--;
  }
}
