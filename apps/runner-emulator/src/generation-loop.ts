import type { Clock } from './clock';
import { deviceDeadBurst } from './device-dead-burst';
import type { TurnFaults } from './emulator-settings';
import { LogFormatter, printfFixed2 } from './log-formatter';
import type { ProcessControl } from './process-control';
import { planReply } from './reply-planner';
import type { StdioStream } from './stdio-stream';
import { TokenizerPort } from './tokenizer-http-client';

/** The SIGINT flag: set by the handler, read between tokens, cleared when a turn starts. */
export class StopFlag {
  private stopped = false;

  request(): void {
    this.stopped = true;
  }

  reset(): void {
    this.stopped = false;
  }

  get requested(): boolean {
    return this.stopped;
  }
}

export interface GenerationSettings {
  promptTokenMs: number;
  tokenMs: number;
  /** max_token_len: prompt + generated tokens never exceed it. */
  maxTokenLen: number;
  /** The tokenizer's eos id from the handshake. */
  eosId: number;
  livePrint: boolean;
}

export interface TurnOptions {
  faults: TurnFaults;
  repeat: number;
}

/** How a turn ended (for specs; the runner itself prints the same footer in every case). */
export type TurnEnd = 'eos' | 'length' | 'stopped';

/**
 * One call of the runner's `Run(input)`: `/encode` the line, feed the prompt one token at a time,
 * generate, print every 3 tokens through `/decode`, then `\n\n`, the footer and the final `/decode`.
 */
export class GenerationLoop {
  constructor(
    private readonly tokenizer: TokenizerPort,
    private readonly out: StdioStream,
    private readonly log: LogFormatter,
    private readonly clock: Clock,
    private readonly control: ProcessControl,
    private readonly settings: GenerationSettings,
    private readonly pid: number = process.pid,
  ) {}

  async run(line: string, stop: StopFlag, options: TurnOptions): Promise<TurnEnd> {
    const { maxTokenLen, eosId, livePrint } = this.settings;
    stop.reset();
    const promptIds = await this.tokenizerCall(() => this.tokenizer.encode(line));
    // A failed /encode leaves the prompt empty and the runner reads past the end of it.
    if (promptIds.length === 0) return this.control.crash();
    const reply = planReply(promptIds, eosId, options.repeat);
    const started = this.clock.nowMs();

    let end: TurnEnd | null = null;
    for (let fed = 0; fed < promptIds.length; fed++) {
      if (fed >= maxTokenLen) {
        end = 'length';
        break;
      }
      if (stop.requested) {
        end = 'stopped';
        break;
      }
      await this.clock.sleep(this.settings.promptTokenMs);
    }

    const generated: number[] = [];
    let chunk: number[] = [];
    while (end === null) {
      if (promptIds.length + generated.length >= maxTokenLen) {
        end = 'length';
        break;
      }
      if (stop.requested) {
        end = 'stopped';
        break;
      }
      await this.injectFaults(options.faults, generated.length);
      // The last prompt token's step yields the first generated token; every later one costs a step.
      if (generated.length > 0) await this.clock.sleep(this.settings.tokenMs);
      const next = reply[generated.length] ?? eosId;
      if (next === eosId) {
        end = 'eos';
        break;
      }
      generated.push(next);
      if (livePrint) {
        chunk.push(next);
        if (chunk.length >= 3) {
          await this.print(chunk);
          chunk = [];
        }
      }
    }
    // Only on eos are the last (< 3) buffered tokens printed.
    if (end === 'eos' && livePrint && chunk.length > 0) await this.print(chunk);

    this.out.printf('\n\n');
    this.out.fflush();
    const seconds = (this.clock.nowMs() - started) / 1000;
    const rate = printfFixed2((promptIds.length + generated.length) / seconds);
    this.out.printf(this.log.format('N', 'Run', 610, `hit eos,avg ${rate} token/s\n`));
    const all = await this.tokenizerCall(() => this.tokenizer.decode(generated));
    if (!livePrint) this.out.printf(`${all}\n`);
    return end;
  }

  private async print(ids: number[]): Promise<void> {
    const text = await this.tokenizerCall(() => this.tokenizer.decode(ids));
    this.out.printf(text);
    this.out.fflush();
  }

  private async injectFaults(faults: TurnFaults, generated: number): Promise<void> {
    if (faults.crashAfterTokens === generated) await this.control.crash();
    if (faults.hangAfterTokens === generated) await this.control.hang();
    if (faults.deviceDeadAfterTokens === generated) {
      this.out.fflush();
      this.out.printf(deviceDeadBurst(this.pid, new Date()));
      this.out.fflush();
      await this.control.hang();
    }
  }

  /** Any tokenizer failure the runner does not handle (unreachable, bad /encode) kills it. */
  private async tokenizerCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch {
      return this.control.crash();
    }
  }
}
