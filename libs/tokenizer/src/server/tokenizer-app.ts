import express, { type NextFunction, type Request, type Response } from 'express';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  QWEN_BOS_ID,
  QWEN_EOS_ID,
  type RegisterPromptResponse,
  type TokenizerEvent,
  type TokenizerSourceKind,
} from '../tokenizer.contract';
import { ChatTemplateRenderer } from '../core/chat-template-renderer';
import type { Clock } from '../core/clock';
import { PromptFitter } from '../core/prompt-fitter';
import { PromptHandleStore } from '../core/prompt-handle-store';
import type { QwenTokenizer } from '../core/qwen-tokenizer';
import { asBody, InvalidRequestError, parseMessages, parseRegisterPrompt, parseTokenIds } from './request-validation';
import { TurnTracker } from './turn-tracker';

/** Receives the TokenizerEvents meant for the parent process (process.send under fork). */
export type TokenizerEventSink = (event: TokenizerEvent) => void;

/** Where problems are reported (operators' log); never given prompt text. */
export interface TokenizerServerLogger {
  log(message: string): void;
  error(message: string): void;
}

export interface TokenizerAppOptions {
  tokenizer: QwenTokenizer;
  /** Replaces the template's default system prompt when a conversation (or a typed line) has none. */
  defaultSystemPrompt?: string | null;
  /** Lifetime of a registered prompt handle. */
  handleTtlMs?: number;
  /** Live handles kept at most. */
  maxHandles?: number;
  /** Turns GET /turns/:handle can still report. */
  turnHistory?: number;
  clock?: Clock;
  events?: TokenizerEventSink;
  logger?: TokenizerServerLogger;
}

export interface TokenizerApp {
  app: express.Express;
  store: PromptHandleStore;
  tracker: TurnTracker;
  renderer: ChatTemplateRenderer;
}

/** Request bodies up to this size (a registered prompt may be a long conversation). */
export const TOKENIZER_BODY_LIMIT = '16mb';
export const DEFAULT_HANDLE_TTL_MS = 120_000;

const silentLogger: TokenizerServerLogger = { log: () => undefined, error: () => undefined };

/**
 * The tokenizer server's HTTP app. Runner protocol: GET /bos_id, GET /eos_id, POST /encode, POST /decode;
 * ours: POST /prompts, GET /turns/:handle, POST /chat_template, GET /health.
 */
export function createTokenizerApp(options: TokenizerAppOptions): TokenizerApp {
  const { tokenizer } = options;
  const events = options.events ?? (() => undefined);
  const logger = options.logger ?? silentLogger;
  const renderer = new ChatTemplateRenderer(tokenizer.chatTemplate, options.defaultSystemPrompt ?? null, {
    eos_token: typeof tokenizer.config.eos_token === 'string' ? tokenizer.config.eos_token : null,
    bos_token: null,
  });
  const fitter = new PromptFitter(tokenizer, renderer);
  const store = new PromptHandleStore({
    ttlMs: options.handleTtlMs ?? DEFAULT_HANDLE_TTL_MS,
    maxEntries: options.maxHandles,
    clock: options.clock,
  });
  const tracker = new TurnTracker(tokenizer, { history: options.turnHistory });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Any content type: the runner's client is not obliged to label its JSON.
  app.use(express.json({ limit: TOKENIZER_BODY_LIMIT, type: () => true, strict: false }));

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
    const registered = candidate.startsWith('qh-') ? store.take(candidate) : undefined;
    let ids: number[];
    if (registered) {
      ids = registered.ids;
      tracker.startTurn(registered);
      events({ type: 'turn-start', handle: registered.handle, promptTokens: registered.promptTokens });
    } else {
      if (candidate.startsWith('qh-')) logger.log('unknown, used or expired prompt handle at /encode: answering as upstream');
      ids = tokenizer.encode(renderer.renderSingleUserMessage(text));
      tracker.startAnonymousTurn(ids.length);
    }
    res.json({ token_ids: ids, tokens: ids, length: ids.length });
  });

  app.post('/decode', (req, res) => {
    const outcome = tracker.decode(parseTokenIds(asBody(req.body)));
    res.json({ text: outcome.text });
    if (outcome.progress) events({ type: 'tokens', ...outcome.progress });
  });

  app.post('/prompts', (req, res) => {
    const request = parseRegisterPrompt(asBody(req.body));
    const fitted = fitter.fit(request);
    if (!fitted.ok) {
      res.status(400).json(fitted.error);
      return;
    }
    const { ids, promptTokens, maxTokens, droppedMessages } = fitted.prompt;
    const stored = store.register({ ids, promptTokens, maxTokens, contextWindow: request.contextWindow });
    const response: RegisterPromptResponse = { handle: stored.handle, promptTokens, maxTokens, droppedMessages, expiresAt: stored.expiresAt };
    res.json(response);
  });

  app.get('/turns/:handle', (req, res) => {
    const report = tracker.report(String(req.params.handle));
    if (!report) {
      res.status(404).json({ error: { code: 'not_found', message: 'no turn is known for this handle' } });
      return;
    }
    res.json(report);
  });

  app.post('/chat_template', (req, res) => {
    res.json({ prompt: renderer.render(parseMessages(asBody(req.body).messages)) });
  });

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', source: tokenizer.files?.source ?? null });
  });

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: { code: 'not_found', message: 'unknown path' } });
  });

  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = errorStatus(error);
    if (status >= 500) logger.error(`request failed: ${(error as Error)?.message ?? String(error)}`);
    const message = status >= 500 ? 'internal error' : ((error as Error)?.message ?? 'bad request');
    res.status(status).json({ error: { code: status === 413 ? 'payload_too_large' : status >= 500 ? 'internal_error' : 'invalid_request', message } });
  });

  return { app, store, tracker, renderer };
}

function errorStatus(error: unknown): number {
  if (error instanceof InvalidRequestError) return 400;
  const status = (error as { status?: unknown; statusCode?: unknown })?.status ?? (error as { statusCode?: unknown })?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}

export interface StartTokenizerServerOptions extends TokenizerAppOptions {
  host: string;
  /** 0 = an ephemeral port. */
  port: number;
}

export interface RunningTokenizerServer extends TokenizerApp {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** Creates the app, listens, then sends the `ready` event. */
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
  options.events?.({ type: 'ready', port, source: sourceOf(files?.source), tokenizerDir: files?.dir ?? '' });
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
