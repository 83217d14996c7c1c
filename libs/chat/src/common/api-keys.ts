import { Inject, Injectable } from '@nestjs/common';
import { bearerToken, SecretSet } from '@qwen/http';
import type { Request } from 'express';
import { CHAT_OPTIONS, ChatModuleOptions } from '../chat.options';

/** What a request's `Authorization` header says about the configured API keys. */
export type ApiKeyVerdict = 'accepted' | 'missing' | 'wrong';

/**
 * `server.apiKeys`, checked against `Authorization: Bearer <key>` for both dialects (each guard
 * answers in its own shape). No keys configured = anything (or nothing) is accepted, since OpenAI
 * clients insist on sending some key. Keys are compared in constant time and never echoed or logged.
 */
@Injectable()
export class ApiKeys {
  private readonly keys: SecretSet;

  constructor(@Inject(CHAT_OPTIONS) options: ChatModuleOptions) {
    this.keys = new SecretSet(options.apiKeys);
  }

  check(req: Request): ApiKeyVerdict {
    if (this.keys.empty) return 'accepted';
    const presented = bearerToken(req.headers.authorization);
    if (presented === null) return 'missing';
    return this.keys.has(presented) ? 'accepted' : 'wrong';
  }
}
