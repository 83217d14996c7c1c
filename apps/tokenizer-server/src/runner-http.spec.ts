import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readJsonBody, RunnerRequestError, sendJson } from './runner-http';

describe(readJsonBody.name, () => {
  let server: Server;
  let port: number;
  let bodiesRead: unknown[];
  let refused: (error: RunnerRequestError) => void;

  beforeEach(async () => {
    bodiesRead = [];
    refused = () => undefined;
    server = createServer((req, res) => {
      readJsonBody(req, 1024).then(
        (body) => {
          bodiesRead.push(body);
          sendJson(res, 200, { ok: true });
        },
        (error: RunnerRequestError) => {
          refused?.(error);
          sendJson(res, error.status, { error: { code: error.code, message: error.message } }, true);
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** A POST whose body is written by `write`; resolves with the answer and its body. */
  function post(headers: Record<string, string>, write: (req: ReturnType<typeof request>) => void): Promise<{ res: IncomingMessage; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ res, body }));
      });
      req.on('error', reject);
      write(req);
    });
  }

  it('parses a JSON body within the limit', async () => {
    const { res, body } = await post({ 'Content-Type': 'application/json' }, (req) => req.end('{"token_ids":[1,2]}'));
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(body)).toEqual({ ok: true });
    expect(bodiesRead).toEqual([{ token_ids: [1, 2] }]);
  });

  it('refuses a declared length over the limit with 413 before reading the body', async () => {
    // The body is never written: the answer can only come from the declared length.
    const { res, body } = await post({ 'Content-Type': 'application/json', 'Content-Length': '2000' }, (req) => req.flushHeaders());
    expect(res.statusCode).toBe(413);
    expect(res.headers.connection).toBe('close');
    expect(JSON.parse(body).error.code).toBe('payload_too_large');
  });

  it('stops reading a chunked body once it passes the limit, and refuses it with 413 before it ends', async () => {
    // The body never ends (up to 1 MB is written): the answer can only come from the cap.
    let written = 0;
    const answer = post({ 'Content-Type': 'application/json' }, (req) => {
      const more = () => {
        if (req.destroyed || written > 1_000_000) return;
        written += 512;
        req.write(' '.repeat(512), more);
      };
      more();
    });
    const { res, body } = await answer;
    expect(res.statusCode).toBe(413);
    expect(JSON.parse(body).error.code).toBe('payload_too_large');
    expect(bodiesRead).toEqual([]);
  });

  it('takes a client that goes away mid-body for a bad request (400), not a server error', async () => {
    const refusal = new Promise<RunnerRequestError>((resolve) => (refused = resolve));
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'Content-Type': 'application/json', 'Content-Length': '100' }, agent: false });
    req.on('error', () => undefined); // destroyed on purpose
    req.write('{"token_ids":', () => req.destroy());
    const error = await refusal;
    expect(error).toBeInstanceOf(RunnerRequestError);
    expect({ status: error.status, code: error.code }).toEqual({ status: 400, code: 'invalid_request' });
  });

  it('refuses a body that is not JSON with 400', async () => {
    const { res, body } = await post({ 'Content-Type': 'application/json' }, (req) => req.end('{not json'));
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(body).error).toEqual({ code: 'invalid_request', message: expect.stringMatching(/^the body is not JSON/) });
  });
});
