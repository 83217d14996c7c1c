import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { CHAT_OPTIONS, ChatModuleOptions } from '../chat.options';
import { OpenAiError } from './openai-error';

/**
 * `Authorization: Bearer <key>` checked against `server.apiKeys`. No keys configured = anything
 * (or nothing) is accepted, since OpenAI clients insist on sending some key. Keys are compared in
 * constant time and never echoed or logged.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly digests: Buffer[];

  constructor(@Inject(CHAT_OPTIONS) options: ChatModuleOptions) {
    this.digests = options.server.apiKeys.filter((k) => k.length > 0).map(digest);
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.digests.length === 0) return true;
    const header = context.switchToHttp().getRequest<Request>().headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
    if (!match) {
      throw new OpenAiError(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        'invalid_request_error',
        'invalid_api_key',
      );
    }
    const presented = digest(match[1].trim());
    let ok = false;
    for (const known of this.digests) ok = timingSafeEqual(known, presented) || ok;
    if (!ok) throw new OpenAiError(401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
    return true;
  }
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}
