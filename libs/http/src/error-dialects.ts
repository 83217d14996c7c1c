import { Injectable, OnModuleInit } from '@nestjs/common';
import type { RequestContext } from './request-context';

/** An error as one API dialect answers it: status, extra headers, JSON body, and a short kind for the log line. */
export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  kind: string;
}

/**
 * How one API dialect answers errors: its ONE table from failure to status and body. Used by the
 * global HttpExceptionFilter (before a response began) and by the dialect's stream writers (an
 * error frame inside a stream that already began carries `answer(...).body`).
 */
export interface ErrorDialect {
  /** The dialect's name, e.g. 'openai'; stored on every RequestContext of its paths. */
  readonly name: string;
  /** The path prefix the dialect owns, e.g. '/v1' (the prefix itself and everything below it). */
  readonly mount: string;
  answer(error: unknown, context: RequestContext): ErrorAnswer;
}

/**
 * The registered error dialects. A dialect extends RegisteredErrorDialect, which registers it at module init. A request's dialect is decided ONCE, when it
 * arrives (`forPath`, by RequestContexts); afterwards everything asks the context.
 */
@Injectable()
export class ErrorDialects {
  private readonly dialects = new Map<string, ErrorDialect>();

  register(dialect: ErrorDialect): void {
    this.dialects.set(dialect.name, dialect);
  }

  /** The dialect owning a path (no query string), or undefined. */
  forPath(path: string): ErrorDialect | undefined {
    for (const dialect of this.dialects.values()) {
      if (path === dialect.mount || path.startsWith(`${dialect.mount}/`)) return dialect;
    }
    return undefined;
  }

  /** The dialect of a request context. */
  of(context: RequestContext): ErrorDialect | undefined {
    return context.dialect === null ? undefined : this.dialects.get(context.dialect);
  }
}

/** An ErrorDialect provider that registers itself with ErrorDialects when its module starts. */
@Injectable()
export abstract class RegisteredErrorDialect implements ErrorDialect, OnModuleInit {
  abstract readonly name: string;
  abstract readonly mount: string;

  constructor(private readonly dialects: ErrorDialects) {}

  onModuleInit(): void {
    this.dialects.register(this);
  }

  abstract answer(error: unknown, context: RequestContext): ErrorAnswer;
}
