import type { CorsOptions, CorsOptionsDelegate } from '@nestjs/common/interfaces/external/cors-options.interface';
import type { Request } from 'express';

/** Request headers a browser client may send (the OpenAI SDK adds its `x-stainless-*` headers). */
const ALLOWED_HEADERS = ['authorization', 'content-type', 'accept', 'openai-organization', 'openai-project', 'openai-beta', 'x-requested-with'];
const ALLOWED_HEADER_PREFIX = 'x-stainless-';

/**
 * Whether a browser origin is allowed by the configured list (`server.corsOrigins`):
 * `*` allows any origin; an entry with `*` is a wildcard (`app://*`, `https://*.example.com`);
 * an entry without a port (`http://localhost`) allows that scheme and host on any port, like Ollama's defaults.
 */
export function isOriginAllowed(origin: string, allowList: readonly string[]): boolean {
  for (const entry of allowList) {
    if (entry === '*' || entry === origin) return true;
    if (entry.includes('*')) {
      const pattern = new RegExp(`^${entry.split('*').map(escapeRegExp).join('.*')}$`);
      if (pattern.test(origin)) return true;
    } else if (/^[a-z][a-z0-9+.-]*:\/\/[^/:]+$/i.test(entry) && origin.startsWith(`${entry}:`) && /^\d+$/.test(origin.slice(entry.length + 1))) {
      return true;
    }
  }
  return false;
}

/** CORS for the whole service (`app.enableCors(corsOptionsFor(config.server.corsOrigins))`). */
export function corsOptionsFor(allowList: readonly string[]): CorsOptionsDelegate<Request> {
  return (req, callback) => {
    const origin = req.headers.origin;
    const requested = String(req.headers['access-control-request-headers'] ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean);
    const options: CorsOptions = {
      origin: typeof origin === 'string' && isOriginAllowed(origin, allowList),
      methods: ['GET', 'HEAD', 'POST', 'OPTIONS'],
      allowedHeaders: [...new Set([...ALLOWED_HEADERS, ...requested.filter((h) => h.startsWith(ALLOWED_HEADER_PREFIX))])],
      exposedHeaders: ['X-Request-Id', 'X-Qwen-Sampling', 'X-Qwen-Truncated-Messages', 'Retry-After'],
      maxAge: 600,
    };
    callback(null, options);
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
