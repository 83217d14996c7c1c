import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { ApiKeys } from '../common/api-keys';
import { OllamaHttpError } from './ollama-http-error';

/**
 * The same API keys as /v1 (ApiKeys: `server.apiKeys`, `Authorization: Bearer <key>`), refused in
 * Ollama's shape: with keys configured, /api would otherwise be an open door to the same model.
 * No keys configured = open, like Ollama.
 */
@Injectable()
export class OllamaApiKeyGuard implements CanActivate {
  constructor(private readonly keys: ApiKeys) {}

  canActivate(context: ExecutionContext): boolean {
    switch (this.keys.check(context.switchToHttp().getRequest<Request>())) {
      case 'missing':
        throw new OllamaHttpError(
          401,
          "unauthorized: You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        );
      case 'wrong':
        throw new OllamaHttpError(401, 'unauthorized: Incorrect API key provided.');
      default:
        return true;
    }
  }
}
