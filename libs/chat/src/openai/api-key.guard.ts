import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { ApiKeys } from '../common/api-keys';
import { OpenAiError } from './openai-error';

/** The API keys (ApiKeys) on /v1, refused in OpenAI's shape. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(private readonly keys: ApiKeys) {}

  canActivate(context: ExecutionContext): boolean {
    switch (this.keys.check(context.switchToHttp().getRequest<Request>())) {
      case 'missing':
        throw new OpenAiError(
          401,
          "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
          'invalid_request_error',
          'invalid_api_key',
        );
      case 'wrong':
        throw new OpenAiError(401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
      default:
        return true;
    }
  }
}
