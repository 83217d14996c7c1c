import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { ApiKeyGuard } from '../openai/api-key.guard';
import { OpenAiError } from '../openai/openai-error';
import { OllamaHttpError } from './ollama-http-error';

/**
 * The same API keys as /v1 (`server.apiKeys`, `Authorization: Bearer <key>`), answered in Ollama's
 * shape: with keys configured, /api would otherwise be an open door to the same model. No keys
 * configured = open, like Ollama. The check itself is ApiKeyGuard's (constant time, never logged).
 */
@Injectable()
export class OllamaApiKeyGuard implements CanActivate {
  constructor(private readonly keys: ApiKeyGuard) {}

  canActivate(context: ExecutionContext): boolean {
    try {
      return this.keys.canActivate(context);
    } catch (error) {
      if (error instanceof OpenAiError) throw new OllamaHttpError(error.status, `unauthorized: ${error.message}`);
      throw error;
    }
  }
}
