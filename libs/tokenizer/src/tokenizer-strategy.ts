import { join, resolve } from 'node:path';
import type { TokenizerClient } from './tokenizer-client';
import { ContextLengthExceededError, type RegisterPromptRequest, type RegisterPromptResponse, type TurnUsage } from './tokenizer.contract';
import type { TokenizerModuleOptions } from './tokenizer.options';
import { upstreamPromptLine } from './upstream-prompt-line';

/** The upstream tokenizer server script, in the model directory. */
export const UPSTREAM_TOKENIZER_SCRIPT = 'qwen2.5_tokenizer.py';
/** Our tokenizer server, compiled, relative to the install root. */
export const BUILTIN_TOKENIZER_ENTRY = join('dist', 'apps', 'tokenizer-server', 'src', 'main.js');
/** Name of the tokenizer's output file inside paths.logDir. */
export const TOKENIZER_LOG_FILE = 'tokenizer.log';

/** What the upstream tokenizer (qwen2.5_tokenizer.py) cannot do; reported at start-up and in the snapshot. */
export const UPSTREAM_TOKENIZER_LIMITATIONS: readonly string[] = [
  'custom system prompts are not available: the upstream tokenizer always uses its fixed system prompt',
  'conversation history is not available: only the last user message reaches the model',
  'max_tokens and usage counts are not exact: the upstream tokenizer neither cuts the output nor reports generated ids',
];

/** How to start the tokenizer server (pure: no side effect). */
export interface TokenizerLaunch {
  /** fork = our Node server with an IPC channel; spawn = the upstream Python script. */
  kind: 'fork' | 'spawn';
  /** The script (fork) or the executable (spawn). */
  command: string;
  args: string[];
  cwd: string;
  logFile: string;
}

/**
 * Everything that differs between our tokenizer server (builtin) and the upstream one: how it is
 * started, how it says it is ready, what it cannot do, how a prompt is registered and how a
 * finished turn is counted. Picked once per start of the process (tokenizerStrategy).
 */
export interface TokenizerStrategy {
  readonly mode: 'builtin' | 'upstream';
  readonly limitations: readonly string[];
  /** The process reports `ready` over IPC once it listens (so an answer on the port is really ours). */
  readonly announcesReady: boolean;
  launch(options: TokenizerModuleOptions, installRoot: string): TokenizerLaunch;
  register(client: TokenizerClient, request: RegisterPromptRequest, options: TokenizerModuleOptions): Promise<RegisterPromptResponse>;
  release(client: TokenizerClient, handle: string): void;
  settle(client: TokenizerClient, handle: string, printedText: string): Promise<TurnUsage>;
}

/** Our server: prompts registered over its private pipe (see TokenizerProcess), usage from the runner's final /decode. */
const BUILTIN: TokenizerStrategy = {
  mode: 'builtin',
  limitations: [],
  announcesReady: true,
  launch({ tokenizer, paths }, installRoot) {
    const args = ['--host', tokenizer.host, '--port', String(tokenizer.port), '--model-dir', resolve(paths.modelDir), '--handle-ttl-ms', String(tokenizer.handleTtlMs)];
    if (tokenizer.defaultSystemPrompt != null) args.push('--default-system-prompt', tokenizer.defaultSystemPrompt);
    if (tokenizer.rawPromptSpecialTokens) args.push('--raw-prompt-special-tokens');
    return { kind: 'fork', command: join(installRoot, BUILTIN_TOKENIZER_ENTRY), args, cwd: installRoot, logFile: join(resolve(paths.logDir), TOKENIZER_LOG_FILE) };
  },
  register: (client, request) => client.registerOverPipe(request),
  release: (client, handle) => client.release(handle),
  async settle(client, handle) {
    return { completionTokens: await client.generatedCount(handle) };
  },
};

/**
 * qwen2.5_tokenizer.py has no registration: the runner sends its /encode exactly the line it is
 * given. So the "handle" is the last user message made into one safe terminal line (see
 * upstreamPromptLine), promptTokens what upstream /encode answers for that line, maxTokens the
 * requested limit clamped to the room left (the upstream tokenizer does not enforce it: the model
 * runtime must stop the runner itself), and usage is counted with upstream /encode.
 */
const UPSTREAM: TokenizerStrategy = {
  mode: 'upstream',
  limitations: UPSTREAM_TOKENIZER_LIMITATIONS,
  announcesReady: false,
  launch({ tokenizer, paths }) {
    return {
      kind: 'spawn',
      command: tokenizer.python,
      args: [UPSTREAM_TOKENIZER_SCRIPT, '--host', tokenizer.host, '--port', String(tokenizer.port)],
      cwd: resolve(paths.modelDir),
      logFile: join(resolve(paths.logDir), TOKENIZER_LOG_FILE),
    };
  },
  async register(client, request, options) {
    const line = upstreamPromptLine(request);
    const promptTokens = await client.upstreamEncodedLength(line);
    const room = request.contextWindow - promptTokens;
    if (room <= 0) throw new ContextLengthExceededError(promptTokens, request.contextWindow, request.maxTokens);
    return {
      handle: line,
      promptTokens,
      maxTokens: Math.min(request.maxTokens ?? room, room),
      droppedMessages: request.messages ? Math.max(0, request.messages.length - 1) : 0,
      expiresAt: Date.now() + options.tokenizer.handleTtlMs,
    };
  },
  release: () => undefined, // nothing was registered
  async settle(client, _handle, printedText) {
    return { completionTokens: await client.countUpstreamTokens(printedText) };
  },
};

/** The one place the configured mode is looked at. */
export function tokenizerStrategy(mode: 'builtin' | 'upstream'): TokenizerStrategy {
  return mode === 'upstream' ? UPSTREAM : BUILTIN;
}
