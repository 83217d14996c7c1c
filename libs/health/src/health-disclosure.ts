import { Injectable } from '@nestjs/common';
import type { Request } from 'express';

/** Facts that locate processes and files on the host: shown only to a local scrape. */
const LOCATING_FACTS = new Set(['pid', 'port', 'lastError', 'outputTail', 'outputTailHidden', 'startedAt', 'node', 'summary', 'cards', 'limitations', 'source']);
/** Our own API paths, which reasons name on purpose ("POST /admin/reload"). */
const API_PATH = /^\/(admin|health|v1|api|ui|metrics)(\/|$)/;

/**
 * How much GET /health (and /health/live, /health/ready) shows. A local scrape — a client on this
 * host, directly (loopback peer, no proxy header) and not a web page (no Origin) — sees everything.
 * Anyone else (through nginx or HAProxy, from the LAN) sees the status, the reasons and what the
 * chat page needs (model state, progress, maxTokenLen, sampling, queue), but no pids, ports, paths,
 * error texts or runner output: the reasons are scrubbed of paths, pids and ports.
 */
@Injectable()
export class HealthDisclosure {
  isLocalScrape(req: Request): boolean {
    const proxied = ['x-forwarded-for', 'forwarded', 'x-real-ip'].some((name) => req.headers[name] !== undefined);
    return !proxied && req.headers.origin === undefined && isLoopback(req.socket?.remoteAddress);
  }

  /** `body` as an outsider may see it (a copy). */
  redact<T>(body: T): T {
    return redactValue(body) as T;
  }
}

function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return scrub(value);
  if (Array.isArray(value)) return value.map(redactValue);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => !LOCATING_FACTS.has(key))
        .map(([key, item]) => [key, redactValue(item)]),
    );
  }
  return value;
}

/** A reason without absolute paths (their last part is kept), pids or ports. */
export function scrub(text: string): string {
  return text
    .replace(/(^|[\s('"=])(\/[^\s'"():,]+)/g, (whole, lead: string, path: string) => (API_PATH.test(path) ? whole : `${lead}${path.split('/').filter(Boolean).pop() ?? ''}`))
    .replace(/\bpid \d+/g, 'pid …')
    .replace(/\b(localhost|\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):\d{1,5}\b/g, '$1:…')
    .replace(/\bport \d{1,5}\b/gi, 'port …');
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : address;
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}
