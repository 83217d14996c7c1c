import { Inject, Injectable } from '@nestjs/common';
import { ClassConstructor, plainToInstance } from 'class-transformer';
import { validate, ValidationError } from 'class-validator';
import { assertJsonDepth } from '@qwen/http';
import type { Request } from 'express';
import { OllamaHttpError, ollamaBadRequest } from './ollama-http-error';
import { DEFAULT_BODY_LIMIT_BYTES } from './ollama.constants';
import { OLLAMA_OPTIONS, OllamaModuleOptions } from './ollama.options';

/** A validated body together with the object the client sent (to see which options it set). */
export interface OllamaBody<T> {
  dto: T;
  raw: Record<string, unknown>;
}

/**
 * Reads and validates an Ollama request body. Ollama parses the body as JSON whatever the
 * Content-Type, and its documentation's examples use `curl -d '{…}'` (sent as form-urlencoded):
 * when the service's JSON body parser did not take the body, it is read here, with the same size
 * limit (`server.bodyLimit`) and the same depth limit (assertJsonDepth: 400).
 */
@Injectable()
export class OllamaRequestReader {
  private readonly limitBytes: number;

  constructor(@Inject(OLLAMA_OPTIONS) options: OllamaModuleOptions) {
    this.limitBytes = parseSize(options.bodyLimit);
  }

  async read<T extends object>(req: Request, type: ClassConstructor<T>): Promise<OllamaBody<T>> {
    const body = req.body !== undefined ? (req.body as unknown) : await this.readUnparsed(req);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw ollamaBadRequest('invalid request body: expected a JSON object');
    }
    const raw = body as Record<string, unknown>;
    const dto = plainToInstance(type, raw);
    const errors = await validate(dto, { forbidUnknownValues: false });
    if (errors.length > 0) throw ollamaBadRequest(describe(errors));
    return { dto, raw };
  }

  private async readUnparsed(req: Request): Promise<unknown> {
    if (req.readableEnded || req.complete) return {};
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length > this.limitBytes) throw new OllamaHttpError(413, `request body too large (limit ${this.limitBytes} bytes)`);
      chunks.push(chunk);
    }
    const bytes = Buffer.concat(chunks);
    assertJsonDepth(bytes);
    const text = bytes.toString('utf8').trim();
    if (text === '') return {};
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw ollamaBadRequest(`invalid JSON body: ${(error as Error).message}`);
    }
  }
}

/** The first message of each failed constraint, with the field's path (`messages.0.role must be …`). */
function describe(errors: ValidationError[], prefix = ''): string {
  const messages: string[] = [];
  const walk = (list: ValidationError[], path: string): void => {
    for (const error of list) {
      const here = path ? `${path}.${error.property}` : error.property;
      if (error.constraints) {
        const first = Object.values(error.constraints)[0];
        messages.push(first.startsWith(error.property) && path ? `${path}.${first}` : first);
      }
      if (error.children?.length) walk(error.children, here);
    }
  };
  walk(errors, prefix);
  return [...new Set(messages)].join('; ');
}

/** `512kb` / `1mb` / `100b` → bytes (the format AppConfig validates). */
function parseSize(size: string): number {
  const match = /^(\d+)(b|kb|mb)$/i.exec(size.trim());
  if (!match) return DEFAULT_BODY_LIMIT_BYTES;
  const unit = match[2].toLowerCase();
  return Number(match[1]) * (unit === 'mb' ? 1024 * 1024 : unit === 'kb' ? 1024 : 1);
}
