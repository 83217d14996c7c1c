import type { TokenizerConfig } from '@qwen/config';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { TokenizerClient, TokenizerRequestError, TokenizerUnsupportedError } from './tokenizer-client';
import { TokenizerClock } from './tokenizer-clock';
import { TokenizerSupervisor } from './tokenizer-supervisor';
import { ContextLengthExceededError, TokenizerSnapshot, TokenizerUnavailableError, TurnReport } from './tokenizer.contract';

interface Seen {
  method: string;
  url: string;
  body: unknown;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: unknown) => void;

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

describe(TokenizerClient.name, () => {
  let server: Server;
  let port: number;
  let seen: Seen[];
  let handler: Handler;
  let snapshot: TokenizerSnapshot;
  let client: TokenizerClient;

  function makeClient(patch: Partial<TokenizerConfig> = {}): TokenizerClient {
    const tokenizer = {
      mode: 'builtin',
      host: '127.0.0.1',
      port,
      python: 'python3',
      startTimeoutMs: 30000,
      healthIntervalMs: 5000,
      healthTimeoutMs: 300,
      healthFailures: 3,
      requestTimeoutMs: 2000,
      restartInitialDelayMs: 500,
      restartMaxDelayMs: 30000,
      handleTtlMs: 120000,
      defaultSystemPrompt: null,
      ...patch,
    } as TokenizerConfig;
    snapshot = { ...snapshot, mode: tokenizer.mode, port: tokenizer.port };
    const supervisor = { snapshot: () => snapshot } as unknown as TokenizerSupervisor;
    client?.onModuleDestroy();
    client = new TokenizerClient({ tokenizer, paths: { modelDir: 'm', logDir: 'l', runDir: 'r' } }, supervisor, new TokenizerClock());
    return client;
  }

  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (raw += chunk));
      req.on('end', () => {
        const body: unknown = raw ? JSON.parse(raw) : undefined;
        seen.push({ method: req.method ?? '', url: req.url ?? '', body });
        handler(req, res, body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    client?.onModuleDestroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    seen = [];
    handler = (_req, res) => json(res, 404, { error: 'not found' });
    snapshot = { state: 'ready', mode: 'builtin', pid: 1, port: 0, restarts: 0, lastError: null, source: 'npm-package', limitations: [] };
    makeClient();
  });

  describe('registerPrompt', () => {
    const request = { messages: [{ role: 'user' as const, content: 'Hi' }], contextWindow: 1024, maxTokens: 50 };

    it('posts the request to /prompts and returns the registration', async () => {
      const registered = { handle: 'qh-abc', promptTokens: 20, maxTokens: 50, droppedMessages: 0, expiresAt: 123 };
      handler = (_req, res) => json(res, 201, registered);
      await expect(client.registerPrompt(request)).resolves.toEqual(registered);
      expect(seen).toEqual([{ method: 'POST', url: '/prompts', body: request }]);
    });

    it('maps 400 context_length_exceeded to ContextLengthExceededError', async () => {
      handler = (_req, res) =>
        json(res, 400, { error: { code: 'context_length_exceeded', message: 'too long', promptTokens: 1500, contextWindow: 1024 } });
      const error = await client.registerPrompt(request).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ContextLengthExceededError);
      expect(error).toMatchObject({ promptTokens: 1500, contextWindow: 1024, requestedTokens: 50 });
    });

    it('maps another 400 to TokenizerRequestError with the status', async () => {
      handler = (_req, res) => json(res, 400, { error: { code: 'bad_request', message: 'messages must not be empty' } });
      const error = await client.registerPrompt(request).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TokenizerRequestError);
      expect(error).toMatchObject({ status: 400 });
      expect((error as Error).message).toContain('messages must not be empty');
    });

    it('maps a 5xx to TokenizerUnavailableError and does not retry the POST', async () => {
      handler = (_req, res) => json(res, 500, { error: 'boom' });
      await expect(client.registerPrompt(request)).rejects.toBeInstanceOf(TokenizerUnavailableError);
      expect(seen).toHaveLength(1);
    });

    it('fails fast, without a request, when the supervisor is not ready', async () => {
      snapshot = { ...snapshot, state: 'restarting' };
      const started = Date.now();
      await expect(client.registerPrompt(request)).rejects.toThrow(new TokenizerUnavailableError('tokenizer unavailable (restarting)'));
      expect(Date.now() - started).toBeLessThan(50);
      expect(seen).toHaveLength(0);
    });

    it('turns a request that gets no answer into TokenizerUnavailableError after requestTimeoutMs, without retrying', async () => {
      makeClient({ requestTimeoutMs: 200 });
      handler = () => undefined; // never answers
      const started = Date.now();
      const error = await client.registerPrompt(request).catch((e: unknown) => e);
      const elapsed = Date.now() - started;
      expect(error).toBeInstanceOf(TokenizerUnavailableError);
      expect((error as Error).message).toContain('within 200 ms');
      expect(elapsed).toBeGreaterThanOrEqual(150);
      expect(elapsed).toBeLessThan(1500);
      expect(seen).toHaveLength(1);
    });

    it('turns a refused connection into TokenizerUnavailableError quickly', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const closedPort = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      makeClient({ port: closedPort });
      const started = Date.now();
      const error = await client.registerPrompt(request).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TokenizerUnavailableError);
      expect((error as Error).message).toContain('ECONNREFUSED');
      expect(Date.now() - started).toBeLessThan(1000);
    });
  });

  describe('turn', () => {
    const report: TurnReport = { handle: 'qh-1', promptTokens: 20, generatedIds: [1, 2, 151645], decodeCalls: 2, limitReached: false, printedText: 'ab' };

    it('gets /turns/:handle (encoded)', async () => {
      handler = (_req, res) => json(res, 200, report);
      await expect(client.turn('qh-1/x')).resolves.toEqual(report);
      expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['GET /turns/qh-1%2Fx']);
    });

    it('retries a GET once after a 5xx', async () => {
      let calls = 0;
      handler = (_req, res) => (++calls === 1 ? json(res, 503, { error: 'busy' }) : json(res, 200, report));
      await expect(client.turn('qh-1')).resolves.toEqual(report);
      expect(seen).toHaveLength(2);
    });

    it('gives up after the one retry', async () => {
      handler = (_req, res) => json(res, 502, { error: 'bad gateway' });
      await expect(client.turn('qh-1')).rejects.toThrow(/GET \/turns\/… answered 502/);
      expect(seen).toHaveLength(2);
    });

    it('maps an unknown handle (404) to TokenizerRequestError', async () => {
      handler = (_req, res) => json(res, 404, { error: { message: 'unknown handle' } });
      await expect(client.turn('qh-x')).rejects.toMatchObject({ name: 'TokenizerRequestError', status: 404 });
      expect(seen).toHaveLength(1);
    });
  });

  describe('chatTemplate and health', () => {
    it('returns the rendered prompt of /chat_template', async () => {
      handler = (_req, res) => json(res, 200, { prompt: '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n' });
      await expect(client.chatTemplate([{ role: 'user', content: 'Hi' }])).resolves.toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
      expect(seen[0]).toEqual({ method: 'POST', url: '/chat_template', body: { messages: [{ role: 'user', content: 'Hi' }] } });
    });

    it('reports health true on 200 and false on an error status, a refused connection or a timeout', async () => {
      handler = (_req, res) => json(res, 200, { status: 'ok' });
      await expect(client.health()).resolves.toBe(true);
      expect(seen[0].url).toBe('/health');
      handler = (_req, res) => json(res, 500, {});
      await expect(client.health()).resolves.toBe(false);
      handler = () => undefined;
      const started = Date.now();
      await expect(client.health()).resolves.toBe(false);
      expect(Date.now() - started).toBeLessThan(1500); // healthTimeoutMs = 300
    });
  });

  describe('upstream mode', () => {
    beforeEach(() => {
      makeClient({ mode: 'upstream' });
    });

    it('registers nothing: the handle is the last user message as one safe line, counted by upstream /encode', async () => {
      handler = (_req, res) => json(res, 200, { token_ids: new Array(30).fill(7) });
      const registered = await client.registerPrompt({
        messages: [
          { role: 'system', content: 'Be terse.' },
          { role: 'user', content: 'first' },
          { role: 'assistant', content: 'ok' },
          { role: 'user', content: 'line one\nline two\u0003\u001b[2J' },
        ],
        contextWindow: 1024,
        maxTokens: 2000,
      });
      expect(registered).toMatchObject({ handle: 'line one line two[2J', promptTokens: 30, maxTokens: 994, droppedMessages: 3 });
      expect(seen).toEqual([{ method: 'POST', url: '/encode', body: { text: 'line one line two[2J' } }]);
    });

    it('keeps the requested max_tokens when it fits', async () => {
      handler = (_req, res) => json(res, 200, { token_ids: [1, 2, 3] });
      await expect(client.registerPrompt({ prompt: 'hello', contextWindow: 1024, maxTokens: 10 })).resolves.toMatchObject({
        handle: 'hello',
        maxTokens: 10,
        droppedMessages: 0,
      });
    });

    it('reports a line that fills the window as ContextLengthExceededError', async () => {
      handler = (_req, res) => json(res, 200, { token_ids: new Array(1024).fill(7) });
      await expect(client.registerPrompt({ prompt: 'long', contextWindow: 1024 })).rejects.toBeInstanceOf(ContextLengthExceededError);
    });

    it('says turn reports and the chat template are not available, and checks health on /bos_id', async () => {
      await expect(client.turn('x')).rejects.toBeInstanceOf(TokenizerUnsupportedError);
      await expect(client.chatTemplate([])).rejects.toBeInstanceOf(TokenizerUnsupportedError);
      handler = (_req, res) => json(res, 200, { bos_id: -1 });
      await expect(client.health()).resolves.toBe(true);
      expect(seen.map((s) => s.url)).toEqual(['/bos_id']);
    });

    it('counts an answer\'s tokens with upstream /encode minus the fixed conversation around it (measured once)', async () => {
      // The upstream server wraps any text in system + user turns: 20 ids of overhead here.
      handler = (_req, res, body) => json(res, 200, { token_ids: new Array(20 + String((body as { text: string }).text).length).fill(7) });
      await expect(client.countUpstreamTokens('abcde')).resolves.toBe(5);
      await expect(client.countUpstreamTokens('xy')).resolves.toBe(2);
      expect(seen.map((s) => s.body)).toEqual([{ text: '' }, { text: 'abcde' }, { text: 'xy' }]);
    });
  });
});
