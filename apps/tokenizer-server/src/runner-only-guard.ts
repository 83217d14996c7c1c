import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { RunnerRequestError } from './runner-http';

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

/** The media type of a Content-Type header (`application/json; charset=utf-8` → `application/json`), and its charset. */
function mediaType(header: string | undefined): { type: string; charset: string | null } {
  const [type, ...params] = (header ?? '').split(';');
  const charset = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('charset='));
  return { type: type.trim().toLowerCase(), charset: charset ? charset.slice('charset='.length).replace(/^"(.*)"$/, '$1') : null };
}

/**
 * Lets through only what the runner sends: a loopback Host (a web page reached through DNS
 * rebinding carries its own name), no Origin and no Sec-Fetch-Site (browsers add them, the
 * runner's cpp-httplib client does not), and POST bodies that are UTF-8 JSON labelled as such.
 * Anything else is refused (403 or 415) before its body is read.
 */
export class RunnerOnlyGuard {
  /** Throws the refusal of a request the runner would never send. */
  check(req: IncomingMessage): void {
    const host = req.headers.host;
    if (!host || !isLoopbackHost(hostName(host))) throw new RunnerRequestError(403, 'forbidden', 'only loopback Host names are served');
    if (req.headers.origin !== undefined || req.headers['sec-fetch-site'] !== undefined) {
      throw new RunnerRequestError(403, 'forbidden', 'browser requests are not served');
    }
    if (req.method !== 'POST') return;
    const { type, charset } = mediaType(req.headers['content-type']);
    if (type !== 'application/json') throw new RunnerRequestError(415, 'unsupported_media_type', 'the body must be application/json');
    if (charset !== null && charset !== 'utf-8' && charset !== 'utf8') throw new RunnerRequestError(415, 'unsupported_media_type', 'the body must be UTF-8');
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') throw new RunnerRequestError(415, 'unsupported_media_type', 'the body must not be compressed');
  }
}
