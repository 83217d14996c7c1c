import { Injectable } from '@nestjs/common';
import type { ChatDialect, ChatExchange } from './chat-exchange';

/** How one API dialect answers errors on the paths it owns. */
export interface ChatErrorDialect {
  readonly dialect: ChatDialect;
  /** True when this dialect owns the request path (no query string), e.g. `/v1/...`. */
  owns(path: string): boolean;
  /** Writes the error response (status, headers, body) and returns what it answered. */
  respond(error: unknown, exchange: ChatExchange): { status: number; kind: string };
}

/**
 * The dialects ChatExceptionFilter dispatches to. Each dialect registers itself at module init
 * (`onModuleInit() { dialects.register(this) }`); paths no dialect owns get Nest's default answer.
 */
@Injectable()
export class ChatErrorDialects {
  private readonly dialects: ChatErrorDialect[] = [];

  register(dialect: ChatErrorDialect): void {
    if (!this.dialects.includes(dialect)) this.dialects.push(dialect);
  }

  find(path: string): ChatErrorDialect | undefined {
    return this.dialects.find((d) => d.owns(path));
  }
}
