import type { Clock } from './clock';
import { deviceDeadBurst } from './device-dead-burst';
import type { CtrlCStep, TurnFaults } from './emulator-settings';
import { LogFormatter, printfFixed2 } from './log-formatter';
import type { ProcessControl } from './process-control';
import { RecordLine } from './record-lines';
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
  /** max_token_len: the number of forward passes of a turn (the last prompt pass yields the first token). */
  maxTokenLen: number;
  /** The tokenizer's eos id from the handshake. */
  eosId: number;
  livePrint: boolean;
  /** What a Ctrl-C does to the step running when it arrives. */
  ctrlCStep: CtrlCStep;
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
 *
 * The turn is at most `maxTokenLen` forward passes: P for a prompt of P tokens (the last one samples
 * the first token), then one per further token, so up to `maxTokenLen − P + 1` tokens are sampled.
 * The stop flag (Ctrl-C) is checked before every pass; a Ctrl-C that arrives DURING a pass either
 * cuts it short (`abandon`, the real runner's check before each layer) or lets it sample its token
 * (`finish`, the runner had passed its last layer check) — see {@link CtrlCStep}.
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
    const cutShort = () => stop.requested && this.settings.ctrlCStep === 'abandon';
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
      if (cutShort()) {
        end = 'stopped';
        break;
      }
    }

    const generated: number[] = [];
    let chunk: number[] = [];
    const maxGenerated = maxTokenLen - promptIds.length + 1;
    while (end === null) {
      if (generated.length >= maxGenerated) {
        end = 'length';
        break;
      }
      // The last prompt pass yields the first token (its flag check was done above); every later one costs a pass.
      if (generated.length > 0) {
        if (stop.requested) {
          end = 'stopped';
          break;
        }
        await this.injectFaults(options.faults, generated.length);
        await this.clock.sleep(this.settings.tokenMs);
        if (cutShort()) {
          end = 'stopped';
          break;
        }
      } else {
        await this.injectFaults(options.faults, 0);
      }
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
    this.out.printf(this.log.format('N', 'Run', RecordLine.hitEos, `hit eos,avg ${rate} token/s\n`));
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
