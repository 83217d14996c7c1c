import type { IncomingMessage, ServerResponse } from 'node:http';

/** A runner call refused: `{"error":{"code","message"}}` with this status. */
export class RunnerRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RunnerRequestError';
  }
}

/**
 * The JSON body of a runner call, read with a hard cap: a declared length over `limit` is refused
 * before a byte is read, and a body that grows past it stops being read (413: the refusal closes
 * the connection, see sendJson). The text must be JSON (400 otherwise).
 */
export function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    return Promise.reject(new RunnerRequestError(413, 'payload_too_large', `the body is larger than ${limit} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        finish();
        req.pause();
        reject(new RunnerRequestError(413, 'payload_too_large', `the body is larger than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      finish();
      try {
        resolve(JSON.parse(Buffer.concat(chunks, size).toString('utf8')));
      } catch (error) {
        reject(new RunnerRequestError(400, 'invalid_request', `the body is not JSON: ${(error as Error).message}`));
      }
    };
    // The client went away mid-body (the socket's error): a bad request, not the server's fault.
    const onError = (error: Error) => {
      finish();
      reject(new RunnerRequestError(400, 'invalid_request', `the body could not be read: ${error.message}`));
    };
    const finish = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/**
 * Answers with a JSON body (`application/json; charset=utf-8`, its length). `close` ends the
 * connection once the answer is written (a refused request: what is left of its body is never read).
 */
export function sendJson(res: ServerResponse, status: number, body: unknown, close = false): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  if (close) res.setHeader('Connection', 'close');
  res.end(text);
}
