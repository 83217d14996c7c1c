import type { TokenizerConfig } from '@qwen/config';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { BehaviorSubject, Subject } from 'rxjs';
import { TokenizerClient, TokenizerRequestError } from './tokenizer-client';
import { tokenizerStrategy } from './tokenizer-strategy';
import type { TokenizerSupervisor } from './tokenizer-supervisor';
import {
  RegisterCommand,
  ContextLengthExceededError,
  TokenizerCommand,
  TokenizerProcessMessage,
  TokenizerSnapshot,
  TokenizerUnavailableError,
  TurnProgress,
  TurnReport,
} from './tokenizer.contract';

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
  let snapshots: BehaviorSubject<TokenizerSnapshot>;
  let messages: Subject<TokenizerProcessMessage>;
  /** What the process received, in order: IPC commands and registrations. */
  let sent: (TokenizerCommand | RegisterCommand)[];
  /** The ids of the commands that went over the registration channel (not IPC). */
  let overRegistrationChannel: number[];
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
      rawPromptSpecialTokens: false,
      ...patch,
    } as TokenizerConfig;
    snapshots.next({ ...snapshots.value, mode: tokenizer.mode, port: tokenizer.port });
    const supervisor = {
      snapshot: () => snapshots.value,
      snapshots$: snapshots.asObservable(),
      messages$: messages.asObservable(),
      strategy: () => tokenizerStrategy(tokenizer.mode),
      send: (command: TokenizerCommand) => {
        const state = snapshots.value.state;
        if (state !== 'ready') throw new TokenizerUnavailableError(`tokenizer unavailable (${state})`);
        sent.push(command);
      },
      register: (command: RegisterCommand) => {
        const state = snapshots.value.state;
        if (state !== 'ready') throw new TokenizerUnavailableError(`tokenizer unavailable (${state})`);
        sent.push(command);
        overRegistrationChannel.push(command.id);
      },
    } as unknown as TokenizerSupervisor;
    client?.onModuleDestroy();
    client = new TokenizerClient({ tokenizer, paths: { modelDir: 'm', logDir: 'l', runDir: 'r' } }, supervisor);
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
    sent = [];
    overRegistrationChannel = [];
    messages = new Subject();
    snapshots = new BehaviorSubject<TokenizerSnapshot>({ state: 'ready', mode: 'builtin', pid: 1, port: 0, restarts: 0, lastError: null, source: 'npm-package', limitations: [] });
    makeClient();
  });

  /** Answers the last command sent, as the tokenizer process would. */
  function reply(build: (id: number) => TokenizerProcessMessage): void {
    const last = sent[sent.length - 1] as { id: number };
    messages.next(build(last.id));
  }

  describe('builtin: over the channels of the fork', () => {
    const registration = { handle: 'qh-abc', promptTokens: 12, maxTokens: 100, droppedMessages: 0, expiresAt: 1 };

    it('registers a prompt with a register command and returns the registration, without any HTTP request', async () => {
      const pending = client.registerPrompt({ prompt: 'x', contextWindow: 1024 });
      expect(sent).toEqual([{ type: 'register', id: expect.any(Number), request: { prompt: 'x', contextWindow: 1024 } }]);
      expect(overRegistrationChannel).toEqual([(sent[0] as RegisterCommand).id]); // not over IPC
      reply((id) => ({ type: 'registered', id, response: registration }));
      await expect(pending).resolves.toEqual(registration);
      expect(seen).toEqual([]);
    });

    it('maps a context_length_exceeded refusal to ContextLengthExceededError, and another refusal to TokenizerRequestError', async () => {
      const tooLong = client.registerPrompt({ prompt: 'x', contextWindow: 10, maxTokens: 5 });
      reply((id) => ({ type: 'refused', id, error: { code: 'context_length_exceeded', message: 'm', promptTokens: 40, contextWindow: 10 } }));
      await expect(tooLong).rejects.toMatchObject({ name: ContextLengthExceededError.name, promptTokens: 40, contextWindow: 10, requestedTokens: 5 });
      const invalid = client.registerPrompt({ prompt: 'x', contextWindow: 10 });
      reply((id) => ({ type: 'refused', id, error: { code: 'invalid_request', message: 'contextWindow must be an integer >= 1' } }));
      await expect(invalid).rejects.toBeInstanceOf(TokenizerRequestError);
    });

    it('fails fast when the process is not ready, and fails what waits when it stops being ready', async () => {
      const waiting = client.registerPrompt({ prompt: 'x', contextWindow: 1024 });
      snapshots.next({ ...snapshots.value, state: 'restarting', pid: null });
      await expect(waiting).rejects.toThrow('tokenizer unavailable (restarting)');
      await expect(client.registerPrompt({ prompt: 'x', contextWindow: 1024 })).rejects.toBeInstanceOf(TokenizerUnavailableError);
      expect(() => client.release('qh-abc')).not.toThrow();
    });

    it('releases a handle with a release command', () => {
      client.release('qh-abc');
      expect(sent).toEqual([{ type: 'release', handle: 'qh-abc' }]);
    });

    it('asks the process for a finished turn\'s count, even after a (possibly early) turn-end; a remembered turn-end serves only a turn the process forgot', async () => {
      const seenProgress: TurnProgress[] = [];
      client.progress$.subscribe((progress) => seenProgress.push(progress));
      // A 3-id call that looked final, then the real final call whose turn-end is still in flight.
      messages.next({ type: 'turn-end', handle: 'qh-a', generatedIds: 6 });
      expect(seenProgress).toEqual([{ type: 'turn-end', handle: 'qh-a', generatedIds: 6 }]);
      const counted = client.generatedCount('qh-a');
      expect(sent).toEqual([{ type: 'report', id: expect.any(Number), handle: 'qh-a' }]);
      const report: TurnReport = { handle: 'qh-a', promptTokens: 3, generatedIds: [1, 2, 3, 4, 5, 6, 7, 8, 9], decodeCalls: 4, limitReached: true, printedText: 'abcdefghi' };
      reply((id) => ({ type: 'reported', id, report }));
      await expect(counted).resolves.toBe(9);

      messages.next({ type: 'turn-end', handle: 'qh-b', generatedIds: 7 });
      const forgotten = client.generatedCount('qh-b');
      reply((id) => ({ type: 'reported', id, report: null }));
      await expect(forgotten).resolves.toBe(7);

      const unknown = client.generatedCount('qh-c');
      reply((id) => ({ type: 'reported', id, report: null }));
      await expect(unknown).rejects.toBeInstanceOf(TokenizerRequestError);
    });

    it('reports health true when GET /bos_id answers 200, false on an error status or a refused connection', async () => {
      handler = (_req, res) => json(res, 200, { bos_id: -1 });
      await expect(client.health()).resolves.toBe(true);
      handler = (_req, res) => json(res, 500, {});
      await expect(client.health()).resolves.toBe(false);
      makeClient({ port: 1 });
      await expect(client.health()).resolves.toBe(false);
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

    it('registers and releases nothing over the channels of the fork, and checks health on /bos_id', async () => {
      tokenizerStrategy('upstream').release(client, 'x');
      expect(sent).toEqual([]);
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
