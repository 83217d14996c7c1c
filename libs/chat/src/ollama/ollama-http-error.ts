import { HttpException } from '@nestjs/common';

/**
 * An error the Ollama dialect answers itself, with Ollama's status and a plain message:
 * the body is `{"error": message}`.
 */
export class OllamaHttpError extends HttpException {
  constructor(status: number, message: string) {
    super(message, status);
    this.name = 'OllamaHttpError';
  }
}

export const ollamaBadRequest = (message: string): OllamaHttpError => new OllamaHttpError(400, message);
