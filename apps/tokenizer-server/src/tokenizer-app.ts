import type { RegisterPromptResponse, TokenizerCommand, TokenizerProcessMessage, TokenizerSourceKind } from '@qwen/tokenizer';
import { PROMPT_HANDLE_PREFIX, PromptHandleStore, QWEN_BOS_ID, QWEN_EOS_ID } from '@qwen/tokenizer-engine';
import type { Clock } from '@qwen/supervision';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PromptToStore } from './prompt-registrations';
import { asBody, InvalidRequestError, parseTokenIds } from './request-validation';
import { readJsonBody, RunnerRequestError, sendJson } from './runner-http';
import { RunnerOnlyGuard } from './runner-only-guard';
import type { RunnerConnections } from './runner-connections';
import { TurnTracker, type TurnTrackerTokenizer } from './turn-tracker';

/** Receives the messages meant for the parent process (process.send under fork). */
export type TokenizerMessageSink = (message: TokenizerProcessMessage) => void;

/** The tokenizer, off the thread that answers the runner (a worker thread, which also fits the registrations). */
export interface PromptFitting {
  /** The upstream server's /encode: `text` as the only user message after the default system prompt. */
  encodeLine(text: string): Promise<number[]>;
}

/** Where problems are reported (operators' log); never given prompt text. */
export interface TokenizerServerLogger {
  log(message: string): void;
  error(message: string): void;
}

export interface TokenizerAppOptions {
  /** Id → bytes, for /decode (TokenByteTable): the only tokenizer data on this thread. */
  tokens: TurnTrackerTokenizer;
  fitting: PromptFitting;
  /** Where tokenizer.json came from (the `ready` message). */
  source?: TokenizerSourceKind;
  tokenizerDir?: string;
  /** Tells the runner's connections from any other local client's (absent: every caller is taken for the runner). */
  runner?: Pick<RunnerConnections, 'isRunner' | 'setRunner'>;
  /** Lifetime of a registered prompt handle. */
  handleTtlMs?: number;
  /** Live handles kept at most. */
  maxHandles?: number;
  /** Turns a report can still be given for. */
  turnHistory?: number;
  clock?: Pick<Clock, 'now'>;
  send?: TokenizerMessageSink;
  logger?: TokenizerServerLogger;
}

export interface TokenizerApp {
  /** The port's request listener: the runner's four calls. */
  app: RequestListener;
  store: PromptHandleStore;
  tracker: TurnTracker;
  /** Handles one command of the parent process (IPC). */
  command(command: TokenizerCommand): Promise<void>;
  /** Stores a fitted registration under a new handle (the worker fits, this thread stores). */
  storePrompt(fitted: PromptToStore): RegisterPromptResponse;
}

/**
 * The biggest body the runner sends: /decode's final call carries every generated id (at most the
 * window, 1024 ids) and /encode one terminal line (< 4095 bytes, JSON-escaped). Anything bigger is
 * refused before it is parsed.
 */
export const RUNNER_BODY_LIMIT = 64 * 1024;
/** A terminal line is cut at 4095 bytes: /encode never gets a longer text from the runner. */
export const RUNNER_LINE_MAX_CHARS = 4096;
export const DEFAULT_HANDLE_TTL_MS = 120_000;

const silentLogger: TokenizerServerLogger = { log: () => undefined, error: () => undefined };

/**
 * The tokenizer server: the runner's HTTP protocol (GET /bos_id, GET /eos_id, POST /encode,
 * POST /decode — and nothing else on the port), and the parent's IPC commands (release, report,
 * runner). Every HTTP answer comes from state that is ready when the request arrives: a
 * registration is received and fitted by the worker thread, off this thread, and only its ids are
 * stored here (`storePrompt`), so no other client's prompt can delay the runner.
 */
export function createTokenizerApp(options: TokenizerAppOptions): TokenizerApp {
  const { tokens, fitting } = options;
  const send = options.send ?? (() => undefined);
  const logger = options.logger ?? silentLogger;
  const isRunner = (req: IncomingMessage): boolean => options.runner?.isRunner(req.socket) ?? true;
  const store = new PromptHandleStore({ ttlMs: options.handleTtlMs ?? DEFAULT_HANDLE_TTL_MS, maxEntries: options.maxHandles, clock: options.clock });
  const tracker = new TurnTracker(tokens, { history: options.turnHistory });

  const guard = new RunnerOnlyGuard();

  function encode(req: IncomingMessage, body: unknown): Answer | Promise<Answer> {
    const text = asBody(body).text;
    if (typeof text !== 'string') throw new InvalidRequestError('text must be a string');
    const candidate = text.trim();
    const fromRunner = isRunner(req);
    const registered = fromRunner && candidate.startsWith(PROMPT_HANDLE_PREFIX) ? store.take(candidate) : undefined;
    if (registered) {
      tracker.startTurn(registered);
      return {
        answer: { token_ids: registered.ids, tokens: registered.ids, length: registered.ids.length },
        after: () => send({ type: 'turn-start', handle: registered.handle, promptTokens: registered.promptTokens, printedTextReported: true }),
      };
    }
    // Not a live handle (or not the runner): the upstream server's answer, computed from the text alone
    // by the worker; no turn changes.
    if (text.length > RUNNER_LINE_MAX_CHARS) throw new InvalidRequestError(`text is longer than a terminal line (${RUNNER_LINE_MAX_CHARS} characters)`);
    if (fromRunner && candidate.startsWith(PROMPT_HANDLE_PREFIX)) logger.log('unknown, used or expired prompt handle at /encode: answered statelessly');
    return fitting.encodeLine(text).then((ids) => ({
      answer: { token_ids: ids, tokens: ids, length: ids.length },
      after: () => {
        if (fromRunner) send({ type: 'unknown-line' });
      },
    }));
  }

  function decode(req: IncomingMessage, body: unknown): Answer {
    const ids = parseTokenIds(asBody(body));
    // Outside a turn every caller gets the same stateless answer: the runner's connections are told
    // apart (a read of the host's socket table) only when a call could feed the turn.
    if (!tracker.turnOpen || !isRunner(req)) {
      // Another local client: the same answer, from the ids alone; the turn does not see it.
      return { answer: { text: tracker.statelessText(ids) } };
    }
    const outcome = tracker.decode(ids);
    // What the runner prints next: the service takes only this text as model text, and holds what the
    // terminal shows until this report arrives. Sent BEFORE the answer, so it is already on its way
    // when the runner prints; sent after, it raced the runner's print and lost by a few ms.
    if (outcome.kind === 'chunk' && outcome.progress && outcome.text) send({ type: 'printed-text', handle: outcome.progress.handle, text: outcome.text });
    return {
      answer: { text: outcome.text },
      after: () => {
        if (outcome.progress) send({ type: 'tokens', ...outcome.progress });
        if (outcome.ended) send({ type: 'turn-end', ...outcome.ended });
      },
    };
  }

  const routes: Record<string, Route> = {
    'GET /bos_id': { answer: () => ({ answer: { bos_id: QWEN_BOS_ID } }) },
    'GET /eos_id': { answer: () => ({ answer: { eos_id: QWEN_EOS_ID } }) },
    'POST /encode': { body: true, answer: encode },
    'POST /decode': { body: true, answer: decode },
  };

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    guard.check(req);
    const path = (req.url ?? '/').split('?', 1)[0];
    const route = routes[`${req.method === 'HEAD' ? 'GET' : req.method} ${path}`];
    if (!route) throw new RunnerRequestError(404, 'not_found', 'unknown path');
    const body = route.body ? await readJsonBody(req, RUNNER_BODY_LIMIT) : undefined;
    const { answer, after } = await route.answer(req, body);
    sendJson(res, 200, answer);
    after?.();
  }

  const app: RequestListener = (req, res) => {
    answer(req, res).catch((error: unknown) => {
      const refusal = asRefusal(error);
      if (refusal.status >= 500) logger.error(`request failed: ${(error as Error)?.message ?? String(error)}`);
      if (res.headersSent) return;
      // A refused request's body is not read (or not all of it): the connection cannot carry another.
      const close = refusal.status === 403 || refusal.status === 413 || refusal.status === 415;
      sendJson(res, refusal.status, { error: { code: refusal.code, message: refusal.message } }, close);
    });
  };

  /** Stores a registration the worker has fitted: its handle is live before the service learns it. */
  function storePrompt(fitted: PromptToStore): RegisterPromptResponse {
    const { ids, promptTokens, maxTokens, droppedMessages } = fitted.prompt;
    const stored = store.register({ ids, promptTokens, maxTokens, contextWindow: fitted.contextWindow });
    return { handle: stored.handle, promptTokens, maxTokens, droppedMessages, expiresAt: stored.expiresAt };
  }

  async function command(message: TokenizerCommand): Promise<void> {
    switch (message.type) {
      case 'release':
        store.take(message.handle);
        return;
      case 'report':
        send({ type: 'reported', id: message.id, report: tracker.report(message.handle) ?? null });
        return;
      case 'runner':
        options.runner?.setRunner(message.pid);
        return;
    }
  }

  return { app, store, tracker, command, storePrompt };
}

/** The answer of a runner call, and what to tell the service once it is sent. */
interface Answer {
  answer: unknown;
  after?: () => void;
}

interface Route {
  /** The call has a JSON body (POST). */
  body?: true;
  answer(req: IncomingMessage, body: unknown): Answer | Promise<Answer>;
}

/** The status, code and message of a failed runner call (an unexpected error is a 500 that names no cause). */
function asRefusal(error: unknown): { status: number; code: string; message: string } {
  if (error instanceof RunnerRequestError) return error;
  if (error instanceof InvalidRequestError) return { status: 400, code: 'invalid_request', message: error.message };
  return { status: 500, code: 'internal_error', message: 'internal error' };
}

export interface StartTokenizerServerOptions extends TokenizerAppOptions {
  /** Must be a loopback address. */
  host: string;
  /** 0 = an ephemeral port. */
  port: number;
}

export interface RunningTokenizerServer extends TokenizerApp {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** Creates the app, listens, then sends the `ready` message. */
export async function startTokenizerServer(options: StartTokenizerServerOptions): Promise<RunningTokenizerServer> {
  const parts = createTokenizerApp(options);
  const server = createServer(parts.app);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  options.send?.({ type: 'ready', port, source: options.source ?? 'npm-package', tokenizerDir: options.tokenizerDir ?? '' });
  return {
    ...parts,
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
