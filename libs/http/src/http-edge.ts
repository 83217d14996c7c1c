import type { NestExpressApplication } from '@nestjs/platform-express';
import { corsOptionsFor } from './cors';
import { HostOriginPolicy } from './host-origin-policy';
import { RequestContexts } from './request-contexts';

export interface HttpEdgeSettings {
  bodyLimit: string;
  corsOrigins: readonly string[];
  /** Host names besides the built-in ones (HostOriginPolicy); default none. */
  allowedHosts?: readonly string[];
}

/**
 * The HTTP edge, applied to the Nest app before it listens (app.factory.ts and the tests), in this
 * order: strict, case-sensitive routing (`/ADMIN/reload` and `/admin/reload/` are not
 * `/admin/reload`), the RequestContext of every request (id, `X-Request-Id`, the one log line,
 * metrics), the Host/Origin check (HostOriginPolicy: 403 before any work), the JSON body parser with
 * the configured limit and the depth limit (errors reach HttpExceptionFilter: malformed JSON 400,
 * too large 413, too deep 400) and CORS from the allow-list. No compression middleware is
 * installed, so streamed frames leave as they are written. Needs HttpEdgeModule in the app.
 */
export function applyHttpEdge(app: NestExpressApplication, settings: HttpEdgeSettings): void {
  const express = app.getHttpAdapter().getInstance() as { set(name: string, value: unknown): void; router: { caseSensitive?: boolean; strict?: boolean } };
  express.set('case sensitive routing', true);
  express.set('strict routing', true);
  // Express creates its router on first use with these settings; make sure a router made earlier follows them too.
  express.router.caseSensitive = true;
  express.router.strict = true;
  app.use(app.get(RequestContexts).middleware());
  app.use(new HostOriginPolicy({ allowedHosts: settings.allowedHosts ?? [], corsOrigins: settings.corsOrigins }).middleware());
  app.useBodyParser('json', { limit: settings.bodyLimit, verify: (_req: unknown, _res: unknown, body: Buffer) => assertJsonDepth(body) });
  app.enableCors(corsOptionsFor(settings.corsOrigins));
}

/**
 * Deepest JSON nesting accepted. Validation (class-transformer, ValidationPipe) walks bodies
 * recursively: a 20 KB body of 10,000 nested arrays overflowed the stack (a 500). No API body
 * needs more than a few levels.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Throws a 400 (a body-parser style error `{status: 400, expose, type: 'entity.too.deep'}`, answered
 * in each dialect's shape) when the raw JSON nests deeper than `max`. One pass over the bytes,
 * skipping strings. Every path that parses a request body calls it before parsing.
 */
export function assertJsonDepth(body: Buffer, max = MAX_JSON_DEPTH): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    if (inString) {
      if (byte === 0x5c) i++; // backslash: skip the escaped byte
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > max) throw Object.assign(new Error(`JSON nested deeper than ${max} levels`), { status: 400, expose: true, type: 'entity.too.deep' });
    } else if (byte === 0x5d || byte === 0x7d) depth--;
  }
}
