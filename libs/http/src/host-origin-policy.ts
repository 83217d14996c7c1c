import { ForbiddenException } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { isOriginAllowed } from './cors';

export interface HostOriginSettings {
  /**
   * Host names a request may name in its `Host` header besides the built-in ones (config
   * `server.allowedHosts`); `*` allows any. Built in: `localhost` and `*.localhost`, any IP address
   * (a rebinding page never reaches us under an IP address), this machine's host name (and
   * `<name>.local`) and the addresses the service is bound to.
   */
  allowedHosts: readonly string[];
  /** Browser origins that may call the APIs besides the service's own (config `server.corsOrigins`). */
  corsOrigins: readonly string[];
}

/**
 * What keeps web pages out (DNS rebinding and cross-site requests), as Ollama's server does:
 * - `Host` must name this service (see HostOriginSettings.allowedHosts): a rebinding page reaches
 *   127.0.0.1 under ITS OWN name, which is refused;
 * - `Origin`, when a browser sends one, must be the service's own origin (its page at /ui) or a
 *   configured CORS origin. CORS alone only hides answers; this refuses the request itself.
 * Refusals are 403, answered before any other work by the dialect's error table.
 */
export class HostOriginPolicy {
  private readonly anyHost: boolean;
  private readonly names: Set<string>;

  constructor(private readonly settings: HostOriginSettings) {
    this.anyHost = settings.allowedHosts.includes('*');
    const machine = hostname().toLowerCase();
    this.names = new Set(['localhost', machine, `${machine}.local`, ...settings.allowedHosts.map((host) => stripBrackets(host.toLowerCase()))]);
  }

  /** Why this request is refused, or null when it may go on. */
  refusal(host: string | undefined, origin: string | undefined): string | null {
    if (host !== undefined && !this.isHostAllowed(host)) {
      return `the Host header "${host.slice(0, 100)}" does not name this service (add it to server.allowedHosts)`;
    }
    if (origin !== undefined && !this.isOriginAllowed(origin, host)) {
      return `requests from the web origin "${origin.slice(0, 100)}" are not allowed (add it to server.corsOrigins)`;
    }
    return null;
  }

  /** Express middleware answering a refused request with a 403 (through the global exception filter). */
  middleware(): RequestHandler {
    return (req: Request, _res: Response, next: NextFunction) => {
      const origin = req.headers.origin;
      const reason = this.refusal(req.headers.host, typeof origin === 'string' ? origin : undefined);
      next(reason === null ? undefined : new ForbiddenException(reason));
    };
  }

  private isHostAllowed(hostHeader: string): boolean {
    if (this.anyHost) return true;
    const name = stripBrackets(hostOnly(hostHeader.trim().toLowerCase()));
    return isIP(name) !== 0 || name.endsWith('.localhost') || this.names.has(name);
  }

  private isOriginAllowed(origin: string, host: string | undefined): boolean {
    if (host !== undefined && (origin === `http://${host}` || origin === `https://${host}`)) return true; // the service's own pages
    return isOriginAllowed(origin, this.settings.corsOrigins);
  }
}

/** `name:port` → `name`; `[::1]:8080` → `[::1]`. */
function hostOnly(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.lastIndexOf(':');
  return colon === -1 || host.indexOf(':') !== colon ? host : host.slice(0, colon);
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
