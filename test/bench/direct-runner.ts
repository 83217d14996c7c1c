/**
 * The runner driven DIRECTLY, without the service: the same emulator binary under node-pty
 * (RunnerProcess: `stty -echo -onlcr; exec ./main_axcl_…` with the upstream flags), prompts
 * registered with the service's own tokenizer process (over its IPC channel, through TokenizerBridge),
 * only the handle typed, the output framed by ReplFramer. This is the floor the service is
 * compared with: everything the service adds (HTTP, validation, queue, SSE) is absent here.
 */
import type { ChatMessage, RegisterPromptRequest } from '@qwen/tokenizer';
import { FramerEvent, ReplFramer, RunnerHandle, RunnerProcess, UPSTREAM_RUNNER_BINARIES, upstreamRunnerArgs } from '@qwen/model';
import { performance } from 'node:perf_hooks';

export interface TimedChunk {
  /** performance.now() when the pty data event fired. */
  at: number;
  text: string;
}

export interface DirectTurn {
  /** When registration began (the equivalent of the client sending its request). */
  startedAt: number;
  firstTextAt: number | null;
  endedAt: number;
  text: string;
  chunks: TimedChunk[];
}

/** The service's tokenizer, shared: the direct runner is named as THE runner for each of its turns. */
export interface DirectRunnerTokenizer {
  register(request: RegisterPromptRequest): Promise<{ handle: string }>;
  runnerStarted(pid: number | null): void;
  /** The service's own runner, named again after each direct turn. */
  servicePid(): number | null;
}

export class DirectRunner {
  private readonly framer = new ReplFramer();
  private waiting: ((event: FramerEvent, at: number) => void) | null = null;
  private exited = false;

  private constructor(
    private readonly runner: RunnerHandle,
    private readonly tokenizer: DirectRunnerTokenizer,
  ) {
    runner.onData((chunk) => {
      const at = performance.now();
      for (const event of this.framer.push(chunk)) this.waiting?.(event, at);
    });
    runner.onExit(() => (this.exited = true));
  }

  static async start(options: {
    modelDir: string;
    tokenizerUrl: string;
    tokenizer: DirectRunnerTokenizer;
    env: Record<string, string>;
    logFile: string;
  }): Promise<DirectRunner> {
    const binary = UPSTREAM_RUNNER_BINARIES[process.arch as keyof typeof UPSTREAM_RUNNER_BINARIES] ?? UPSTREAM_RUNNER_BINARIES.x64;
    const runner = await new RunnerProcess().spawn({
      binary: `./${binary}`,
      args: upstreamRunnerArgs(options.tokenizerUrl, ''),
      cwd: options.modelDir,
      env: { ...(process.env as Record<string, string>), ...options.env },
      logFile: options.logFile,
      keepModelText: true,
    });
    const direct = new DirectRunner(runner, options.tokenizer);
    await direct.until((e) => e.type === 'ready', 'the direct runner to load', 30000);
    return direct;
  }

  /** One turn: register, type the handle, collect text until the runner is back at `>> `. */
  async ask(messages: ChatMessage[], maxTokens?: number): Promise<DirectTurn> {
    const startedAt = performance.now();
    // The tokenizer serves one runner's turns at a time: lend it to this one for the turn.
    this.tokenizer.runnerStarted(this.runner.pid);
    const { handle } = await this.tokenizer.register({ messages, contextWindow: 1024, ...(maxTokens ? { maxTokens } : {}) });
    const chunks: TimedChunk[] = [];
    const ended = this.until(
      (event, at) => {
        if (event.type === 'text') chunks.push({ at, text: event.text });
        return event.type === 'ready';
      },
      'the direct turn to end',
      120000,
    );
    this.framer.beginTurn(handle);
    this.runner.write(`${handle}\n`);
    const endedAt = await ended.finally(() => this.tokenizer.runnerStarted(this.tokenizer.servicePid()));
    return { startedAt, firstTextAt: chunks[0]?.at ?? null, endedAt, text: chunks.map((c) => c.text).join(''), chunks };
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.runner.onExit(() => resolve()));
    this.runner.write('q\n');
    const timer = setTimeout(() => this.runner.signalGroup('SIGKILL'), 3000);
    await gone;
    clearTimeout(timer);
  }

  private until(predicate: (event: FramerEvent, at: number) => boolean, what: string, ms: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }, ms);
      this.waiting = (event, at) => {
        if (!predicate(event, at)) return;
        clearTimeout(timer);
        this.waiting = null;
        resolve(at);
      };
    });
  }
}
