import type { RegisterPromptResponse, TokenizerCommand, TokenizerProcessMessage, TokenizerSourceKind } from '@qwen/tokenizer';
import {
  chatTemplateRendererFor,
  type FitRequest,
  type FitResult,
  PROMPT_HANDLE_PREFIX,
  PromptHandleStore,
  QWEN_BOS_ID,
  QWEN_EOS_ID,
  type QwenTokenizer,
} from '@qwen/tokenizer-engine';
import type { Clock } from '@qwen/supervision';
import express, { type NextFunction, type Request, type Response } from 'express';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { asBody, InvalidRequestError, parseRegisterPrompt, parseTokenIds } from './request-validation';
import { RunnerOnlyGuard } from './runner-only-guard';
import { TurnTracker } from './turn-tracker';

/** Receives the messages meant for the parent process (process.send under fork). */
export type TokenizerMessageSink = (message: TokenizerProcessMessage) => void;

/** Renders, encodes and fits a registration off the thread that answers the runner (a worker thread). */
export interface PromptFitting {
  fit(request: FitRequest): Promise<FitResult>;
}

/** Where problems are reported (operators' log); never given prompt text. */
export interface TokenizerServerLogger {
  log(message: string): void;
  error(message: string): void;
}

export interface TokenizerAppOptions {
  tokenizer: QwenTokenizer;
  fitting: PromptFitting;
  /** Replaces the template's default system prompt when a typed line is answered statelessly. */
  defaultSystemPrompt?: string | null;
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
  app: express.Express;
  store: PromptHandleStore;
  tracker: TurnTracker;
  /** Handles one command of the parent process (IPC). */
  command(command: TokenizerCommand): Promise<void>;
}

/**
 * The biggest body the runner sends: /decode's final call carries every generated id (at most the
 * window, 1024 ids) and /encode one terminal line (< 4095 bytes, JSON-escaped). Anything bigger is
 * refused before it is parsed.
 */
export const RUNNER_BODY_LIMIT = '64kb';
/** A terminal line is cut at 4095 bytes: /encode never gets a longer text from the runner. */
export const RUNNER_LINE_MAX_CHARS = 4096;
export const DEFAULT_HANDLE_TTL_MS = 120_000;

const silentLogger: TokenizerServerLogger = { log: () => undefined, error: () => undefined };

/**
 * The tokenizer server: the runner's HTTP protocol (GET /bos_id, GET /eos_id, POST /encode,
 * POST /decode — and nothing else on the port), and the parent's IPC commands (register, release,
 * report). Every HTTP answer comes from state that is ready when the request arrives: a
 * registration is fitted by `fitting` (a worker thread) and only its ids are stored here, so no
 * other client's prompt can delay the runner.
 */
export function createTokenizerApp(options: TokenizerAppOptions): TokenizerApp {
  const { tokenizer, fitting } = options;
  const send = options.send ?? (() => undefined);
  const logger = options.logger ?? silentLogger;
  const renderer = chatTemplateRendererFor(tokenizer, options.defaultSystemPrompt ?? null);
  const store = new PromptHandleStore({ ttlMs: options.handleTtlMs ?? DEFAULT_HANDLE_TTL_MS, maxEntries: options.maxHandles, clock: options.clock });
  const tracker = new TurnTracker(tokenizer, { history: options.turnHistory });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(new RunnerOnlyGuard().middleware());
  app.use(express.json({ limit: RUNNER_BODY_LIMIT, strict: false }));

  app.get('/bos_id', (_req, res) => {
    res.json({ bos_id: QWEN_BOS_ID });
  });
  app.get('/eos_id', (_req, res) => {
    res.json({ eos_id: QWEN_EOS_ID });
  });

  app.post('/encode', (req, res) => {
    const text = asBody(req.body).text;
    if (typeof text !== 'string') throw new InvalidRequestError('text must be a string');
    const candidate = text.trim();
    const registered = candidate.startsWith(PROMPT_HANDLE_PREFIX) ? store.take(candidate) : undefined;
    if (registered) {
      tracker.startTurn(registered);
      res.json({ token_ids: registered.ids, tokens: registered.ids, length: registered.ids.length });
      send({ type: 'turn-start', handle: registered.handle, promptTokens: registered.promptTokens });
      return;
    }
    // Not a live handle: the upstream server's answer, computed from the text alone; no turn changes.
    if (text.length > RUNNER_LINE_MAX_CHARS) throw new InvalidRequestError(`text is longer than a terminal line (${RUNNER_LINE_MAX_CHARS} characters)`);
    if (candidate.startsWith(PROMPT_HANDLE_PREFIX)) logger.log('unknown, used or expired prompt handle at /encode: answered statelessly');
    const ids = tokenizer.encodePrompt(renderer.renderSingleUserMessage(text));
    res.json({ token_ids: ids, tokens: ids, length: ids.length });
    send({ type: 'unknown-line' });
  });

  app.post('/decode', (req, res) => {
    const outcome = tracker.decode(parseTokenIds(asBody(req.body)));
    res.json({ text: outcome.text });
    if (outcome.progress) send({ type: 'tokens', ...outcome.progress });
    if (outcome.ended) send({ type: 'turn-end', ...outcome.ended });
  });

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: { code: 'not_found', message: 'unknown path' } });
  });

  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = errorStatus(error);
    if (status >= 500) logger.error(`request failed: ${(error as Error)?.message ?? String(error)}`);
    const message = status >= 500 ? 'internal error' : ((error as Error)?.message ?? 'bad request');
    const code = status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : status === 403 ? 'forbidden' : status >= 500 ? 'internal_error' : 'invalid_request';
    res.status(status).json({ error: { code, message } });
  });

  async function register(id: number, body: unknown): Promise<void> {
    let request: FitRequest;
    try {
      request = parseRegisterPrompt(asBody(body));
    } catch (error) {
      send({ type: 'refused', id, error: { code: 'invalid_request', message: (error as Error).message } });
      return;
    }
    let fitted: FitResult;
    try {
      fitted = await fitting.fit(request);
    } catch (error) {
      logger.error(`registration failed: ${(error as Error).message}`);
      send({ type: 'refused', id, error: { code: 'internal_error', message: 'the tokenizer could not fit the prompt' } });
      return;
    }
    if (!fitted.ok) {
      send({ type: 'refused', id, error: fitted.error.error });
      return;
    }
    const { ids, promptTokens, maxTokens, droppedMessages } = fitted.prompt;
    const stored = store.register({ ids, promptTokens, maxTokens, contextWindow: request.contextWindow });
    const response: RegisterPromptResponse = { handle: stored.handle, promptTokens, maxTokens, droppedMessages, expiresAt: stored.expiresAt };
    send({ type: 'registered', id, response });
  }

  async function command(message: TokenizerCommand): Promise<void> {
    switch (message.type) {
      case 'register':
        return register(message.id, message.request);
      case 'release':
        store.take(message.handle);
        return;
      case 'report':
        send({ type: 'reported', id: message.id, report: tracker.report(message.handle) ?? null });
        return;
    }
  }

  return { app, store, tracker, command };
}

function errorStatus(error: unknown): number {
  if (error instanceof InvalidRequestError) return 400;
  const status = (error as { status?: unknown; statusCode?: unknown })?.status ?? (error as { statusCode?: unknown })?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
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
  const files = options.tokenizer.files;
  options.send?.({ type: 'ready', port, source: sourceOf(files?.source), tokenizerDir: files?.dir ?? '' });
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

function sourceOf(source: TokenizerSourceKind | undefined): TokenizerSourceKind {
  return source ?? 'npm-package';
}
