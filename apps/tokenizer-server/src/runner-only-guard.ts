import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { isIP } from 'node:net';

/** Host names that can only mean this machine. */
const LOOPBACK_NAMES = new Set(['localhost', '::1']);

/** True for `localhost`, `127.x.x.x` and `::1` (a bind address or a Host header's name). */
export function isLoopbackHost(host: string): boolean {
  const name = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (LOOPBACK_NAMES.has(name)) return true;
  return isIP(name) === 4 && name.startsWith('127.');
}

/** The host name of a Host header (`name`, `name:port`, `[v6]:port`). */
function hostName(header: string): string {
  if (header.startsWith('[')) return header.slice(0, header.indexOf(']') + 1);
  const colon = header.lastIndexOf(':');
  return colon < 0 ? header : header.slice(0, colon);
}

/**
 * Lets through only what the runner sends: a loopback Host (a web page reached through DNS
 * rebinding carries its own name), no Origin and no Sec-Fetch-Site (browsers add them, the
 * runner's cpp-httplib client does not), and JSON bodies labelled as such. Anything else gets 403
 * or 415 before its body is read.
 */
export class RunnerOnlyGuard {
  middleware(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const host = req.headers.host;
      if (!host || !isLoopbackHost(hostName(host))) return refuse(res, 403, 'forbidden', 'only loopback Host names are served');
      if (req.headers.origin !== undefined || req.headers['sec-fetch-site'] !== undefined) {
        return refuse(res, 403, 'forbidden', 'browser requests are not served');
      }
      if (req.method === 'POST' && !req.is('application/json')) return refuse(res, 415, 'unsupported_media_type', 'the body must be application/json');
      next();
    };
  }
}

function refuse(res: Response, status: number, code: string, message: string): void {
  res.status(status).set('connection', 'close').json({ error: { code, message } });
}
