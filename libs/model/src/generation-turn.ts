import { Logger } from '@nestjs/common';
import { Clock, TimerHandle } from '@qwen/supervision';
import type { RegisterPromptResponse, TokenizerBridge, TurnProgress } from '@qwen/tokenizer';
import { Subscriber, Subscription } from 'rxjs';
import { FinishReason, GenerationEvent, GenerationProgress, GenerationRequest, GenerationTimeoutError, ModelProcessError, ModelUnavailableError } from './model.contract';
import { PrintedTextVerifier } from './printed-text-verifier';
import { RunnerConsole, RunnerOutput } from './runner-supervisor';
import { StopSequenceCutter } from './stop-sequence-cutter';
import type { TurnFacts } from './wait-estimator';

/** Milliseconds the runner needs to read `promptTokens` at `tokensPerSecond` (no batched prefill: one token at a time). */
export function expectedPrefillMs(promptTokens: number, tokensPerSecond: number): number {
  return Math.round((promptTokens * 1000) / tokensPerSecond);
}

/** Silence allowed after a "device is dead" line before the device is declared dead. */
export const DEVICE_DEAD_SILENCE_MS = 3000;

/** How a request that the NPU's death ended fails: 503, the model is unavailable (until a reboot). */
export const DEVICE_DEAD_DURING_REQUEST = 'the NPU device died during the request; the model is unavailable until the machine is rebooted';

export interface TurnLimits {
  requestTimeoutMs: number;
  hangTimeoutMs: number;
  prefillMsPerToken: number;
  /** The rate the runner reads prompt tokens at (its last measured token/s, else the nominal one): the start event's expected prefill time. */
  prefillTokensPerSecond: number;
}

/** The client side of a turn: what it asked, where its events go, since when it waits. */
export interface TurnClient {
  readonly request: GenerationRequest;
  readonly subscriber: Subscriber<GenerationEvent>;
  readonly subscribedAt: number;
}

/** How the client's request ended: answered, failed, or the client left. Set exactly once. */
export type TurnOutcome = 'done' | 'failed' | 'cancelled';

/**
 * One request on the runner, from typing its handle to the runner's next ">> " (or its exit).
 *
 * - The client gets 'start', 'progress'* while its prompt is fed (reportPrefill, driven by
 *   ModelService), 'delta'*, then exactly ONE terminal transition: 'done' (usage from the
 *   tokenizer's settle), an error, or nothing when it left.
 * - Stopping (max_tokens, stop string, client gone, deadline, operator) is Ctrl-C, sent only once
 *   the runner has read the line (at ">> " a Ctrl-C does nothing): once while the prompt is read in,
 *   and once more at the first text if the first did not count (the runner honours its stop flag
 *   only while generating). The pty is `noflsh`, so a Ctrl-C never discards a line or a ">> ".
 * - A runner silent for too long is hung (or its device died): the turn fails and the runner is killed.
 * - Once the runner is back at its prompt the text is delivered: a runner exit while the usage is
 *   being settled is no longer this turn's business.
 * - Only text our tokenizer produced reaches the client: when the tokenizer reports the text it
 *   answered to each /decode (`printedTextReported`), terminal text is compared with it
 *   (PrintedTextVerifier) and anything else the runner printed — the AXCL runtime's lines when the
 *   NPU dies, stray output — is logged as runner output, never sent. (The framer cannot decide this:
 *   model text may imitate any line format; only the tokenizer knows what it produced.)
 */
export class GenerationTurn {
  private readonly logger = new Logger(GenerationTurn.name);
  private readonly cutter: StopSequenceCutter;
  /** Says where the answer ends (a JSON value closed), when the request gave one. */
  private readonly endDetector: { push(delta: string): number | null } | null;
  private readonly subscriptions = new Subscription();
  /** The tokenizer's progress: followed until the turn is closed (its last reports may come after ">> "). */
  private readonly progressSubscription = new Subscription();
  /** Set at turn-start when the tokenizer reports the text it produced: then only that text is model text. */
  private verifier: PrintedTextVerifier | null = null;
  /** Runner output seen amid the answer (logged once per turn, then counted). */
  private strayChars = 0;
  private readonly typedAt: number;
  private readonly queuedMs: number;
  private firstTextAt: number | null = null;
  /** When the tokenizer first counted a generated token (text may be held back by the stop cutter). */
  private firstTokenAt: number | null = null;
  private generatedTokens = 0;
  /** What the client was given (upstream tokenizer mode counts its tokens for usage). */
  private emitted = '';
  private stopHit = false;
  /** The generation must stop (max_tokens, stop string, client gone, deadline, reload). */
  private stopWanted = false;
  /** The runner has read the typed line (the tokenizer saw its /encode, or text came). */
  private lineRead = false;
  private ctrlCBeforeText = false;
  private ctrlCDuringText = false;
  private footerTokensPerSecond: number | null = null;
  private outcomeValue: TurnOutcome | null = null;
  /** The runner is back at ">> " or gone: nothing more comes from it for this turn. */
  private runnerReleased = false;
  private deadline: TimerHandle | null = null;
  private hangTimer: TimerHandle | null = null;
  private closed = false;

  constructor(
    private readonly client: TurnClient,
    private readonly registration: RegisterPromptResponse,
    private readonly runner: RunnerConsole,
    private readonly tokenizer: Pick<TokenizerBridge, 'progress$' | 'settle'>,
    private readonly clock: Clock,
    private readonly limits: TurnLimits,
    /** Called once, when the outcome is set AND the runner is released (the next turn may start). */
    private readonly onClosed: () => void,
  ) {
    this.cutter = new StopSequenceCutter(client.request.stop ?? []);
    this.endDetector = client.request.endDetector?.() ?? null;
    this.typedAt = clock.now();
    this.queuedMs = this.typedAt - client.subscribedAt;
  }

  get outcome(): TurnOutcome | null {
    return this.outcomeValue;
  }

  /** What the turn has done so far (for the queue's estimates). */
  facts(): TurnFacts {
    const generatingSince = this.firstTextAt ?? this.firstTokenAt;
    return {
      typedAt: this.typedAt,
      generatingSince,
      promptTokens: this.registration.promptTokens,
      maxTokens: this.registration.maxTokens,
      generatedTokens: this.generatedTokens,
    };
  }

  /** Tells the client where the feeding of its prompt stands; nothing once it generates or has its outcome. */
  reportPrefill(progress: GenerationProgress): void {
    if (this.outcomeValue !== null || this.runnerReleased || this.facts().generatingSince !== null) return;
    this.client.subscriber.next(progress);
  }

  /** Types the handle, then tells the client it started (a client leaving on 'start' cancels a typed line). */
  begin(): void {
    this.subscriptions.add(this.runner.output$.subscribe((output) => this.onRunnerOutput(output)));
    this.progressSubscription.add(this.tokenizer.progress$.subscribe((progress) => this.onProgress(progress)));
    if (!this.runner.type(this.registration.handle)) {
      this.fail(new ModelProcessError('the model process was not at its prompt'));
      this.release();
      return;
    }
    this.armHangTimer();
    this.deadline = this.clock.setTimeout(() => this.onDeadline(), this.limits.requestTimeoutMs);
    this.client.subscriber.next({
      type: 'start',
      promptTokens: this.registration.promptTokens,
      maxTokens: this.registration.maxTokens,
      requestedMaxTokens: this.client.request.maxTokens ?? null,
      droppedMessages: this.registration.droppedMessages,
      queuedMs: this.queuedMs,
      expectedPrefillMs: expectedPrefillMs(this.registration.promptTokens, this.limits.prefillTokensPerSecond),
    });
  }

  /** The client left: nothing more is emitted; the generation is stopped. */
  cancel(): void {
    if (this.outcomeValue !== null) return;
    this.outcomeValue = 'cancelled';
    this.interrupt();
    this.closeIfDone();
  }

  /** An operator stops it (forced reload, shutdown): the client gets `error`. Text already delivered in full is kept. */
  abort(error: Error): void {
    if (this.runnerReleased) return;
    this.fail(error);
    this.interrupt();
  }

  /** Stops the generation with Ctrl-C (as soon as the runner has read the line). */
  interrupt(): void {
    this.stopWanted = true;
    this.sendCtrlCIfWanted();
  }

  // ---------------------------------------------------------------- the runner

  private onRunnerOutput(output: RunnerOutput): void {
    if (this.runnerReleased) return;
    switch (output.type) {
      case 'output':
      case 'device-dead-suspected':
        this.armHangTimer();
        break;
      case 'text':
        this.onPrinted(output.text);
        break;
      case 'footer':
        this.footerTokensPerSecond = output.tokensPerSecond;
        break;
      case 'prompt':
        this.release();
        if (this.outcomeValue === null) void this.complete();
        break;
      case 'exit':
        this.release();
        this.fail(
          this.runner.deviceDeadSuspected
            ? new ModelUnavailableError(DEVICE_DEAD_DURING_REQUEST)
            : new ModelProcessError(`the model process failed during the request (exit ${output.how})`),
        );
        break;
    }
  }

  /** Turn text from the terminal: model text only as far as the tokenizer produced it. */
  private onPrinted(text: string): void {
    this.firstTextAt ??= this.clock.now();
    this.lineRead = true;
    this.sendCtrlCIfWanted();
    if (!this.verifier) return this.onText(text);
    const { model, stray } = this.verifier.printed(text);
    this.onStray(stray);
    this.onText(model);
  }

  /** Runner output amid the answer: for the operator (model.log and /health keep it whole), never the client. */
  private onStray(stray: string): void {
    if (!stray) return;
    if (this.strayChars === 0) {
      const line = stray.split('\n', 1)[0].slice(0, 200);
      this.logger.warn(`request ${this.client.request.requestId}: runner output amid the answer, not sent to the client: ${JSON.stringify(line)}`);
    }
    this.strayChars += stray.length;
  }

  private onText(text: string): void {
    if (!text) return;
    if (this.outcomeValue !== null || this.stopHit) return;
    const end = this.endDetector?.push(text) ?? null;
    const { emit, stopped } = this.cutter.push(end === null ? text : text.slice(0, end));
    if (emit) this.emitText(emit);
    if (!stopped && end !== null) {
      const rest = this.cutter.flush(); // the answer is complete: what the cutter held back is not a stop string
      if (rest) this.emitText(rest);
    }
    if (stopped || end !== null) {
      this.stopHit = true;
      this.interrupt();
    }
  }

  private onProgress(progress: TurnProgress): void {
    if (progress.type === 'printed-text') {
      if (progress.handle === this.registration.handle && this.verifier) {
        const { model, stray } = this.verifier.produced(progress.text);
        this.onStray(stray);
        this.onText(model);
      }
      return;
    }
    if (this.runnerReleased) return;
    if (progress.type === 'unknown-line') {
      if (this.lineRead) return; // not about our line: ours was read already
      // The runner read our line but the tokenizer holds no prompt for it: whatever the runner
      // generates now answers some other text. Stop it and tell the client.
      this.lineRead = true;
      this.fail(new ModelProcessError('the prompt of this request was no longer registered when the model read it (the tokenizer forgot its handle)'));
      this.interrupt();
      return;
    }
    if (progress.handle !== this.registration.handle) return;
    this.lineRead = true;
    if (progress.type === 'turn-start') {
      if (progress.printedTextReported) this.verifier ??= new PrintedTextVerifier();
      this.sendCtrlCIfWanted();
    } else if (progress.type === 'tokens') {
      this.firstTokenAt ??= this.clock.now();
      this.generatedTokens = progress.generated;
      this.armHangTimer();
      if (progress.limitReached) this.interrupt();
    }
  }

  private sendCtrlCIfWanted(): void {
    if (!this.stopWanted || this.runnerReleased || !this.lineRead) return;
    if (this.firstTextAt === null) {
      if (this.ctrlCBeforeText) return;
      this.ctrlCBeforeText = true;
    } else {
      if (this.ctrlCDuringText) return;
      this.ctrlCDuringText = true;
    }
    this.runner.interrupt();
  }

  /** A busy runner that prints nothing for too long is hung (or its device died). */
  private armHangTimer(): void {
    this.clock.clearTimeout(this.hangTimer);
    if (this.runnerReleased) return;
    const { hangTimeoutMs, prefillMsPerToken } = this.limits;
    const allowance = this.runner.deviceDeadSuspected
      ? DEVICE_DEAD_SILENCE_MS
      : hangTimeoutMs + (this.firstTextAt === null ? this.registration.promptTokens * prefillMsPerToken : 0);
    this.hangTimer = this.clock.setTimeout(() => {
      if (this.runnerReleased) return;
      if (this.runner.deviceDeadSuspected) {
        this.fail(new ModelUnavailableError(DEVICE_DEAD_DURING_REQUEST));
        this.runner.declareDeviceDead('the runner went silent after reporting a dead device');
        return;
      }
      this.fail(new ModelProcessError('the model process stopped responding'));
      this.runner.kill(`the runner stopped responding (no output for ${allowance} ms)`);
    }, allowance);
  }

  private onDeadline(): void {
    if (this.runnerReleased) return;
    this.logger.warn(`request ${this.client.request.requestId} ran past ${this.limits.requestTimeoutMs} ms: stopping it`);
    this.fail(new GenerationTimeoutError(this.limits.requestTimeoutMs));
    this.interrupt();
  }

  /** The runner is done with this turn (back at ">> ", or gone). */
  private release(): void {
    this.runnerReleased = true;
    this.clock.clearTimeout(this.hangTimer);
    this.clock.clearTimeout(this.deadline);
    this.hangTimer = this.deadline = null;
    this.subscriptions.unsubscribe();
    this.closeIfDone();
  }

  // ---------------------------------------------------------------- the client

  /** The runner is back at ">> " with the whole answer printed: settle the usage, then 'done'. */
  private async complete(): Promise<void> {
    let generated: number;
    if (this.verifier) {
      // The tokenizer answers settle after every text it reported (one channel, in order): only then
      // is what is still unverified known to be runner output.
      generated = await this.settledTokens();
      this.onStray(this.verifier.finish());
      this.flushCutter();
    } else {
      this.flushCutter();
      generated = await this.settledTokens();
    }
    if (this.strayChars > 0) this.logger.warn(`request ${this.client.request.requestId}: ${this.strayChars} characters of runner output kept from the client`);
    if (this.outcomeValue !== null) return; // the client left meanwhile
    const { maxTokens, promptTokens } = this.registration;
    const finishReason: FinishReason = this.stopHit ? 'stop' : generated >= maxTokens ? 'length' : 'stop';
    const end = this.clock.now();
    const firstText = this.firstTextAt ?? end;
    this.outcomeValue = 'done';
    this.client.subscriber.next({
      type: 'done',
      finishReason,
      usage: { promptTokens, completionTokens: Math.min(generated, maxTokens) },
      timings: {
        queuedMs: this.queuedMs,
        ttftMs: this.firstTextAt === null ? null : this.firstTextAt - this.typedAt,
        promptEvalMs: firstText - this.typedAt,
        evalMs: end - firstText,
        totalMs: end - this.client.subscribedAt,
      },
      runnerTokensPerSecond: this.footerTokensPerSecond,
    });
    this.client.subscriber.complete();
    this.closeIfDone();
  }

  private flushCutter(): void {
    if (this.stopHit || this.outcomeValue !== null) return;
    const rest = this.cutter.flush();
    if (rest) this.emitText(rest);
  }

  private async settledTokens(): Promise<number> {
    try {
      return (await this.tokenizer.settle(this.registration.handle, this.emitted)).completionTokens;
    } catch (error) {
      this.logger.warn(`no token count for the request ${this.client.request.requestId}: ${(error as Error).message}`);
      return Math.ceil(this.emitted.length / 4);
    }
  }

  private fail(error: Error): void {
    if (this.outcomeValue !== null) return;
    this.outcomeValue = 'failed';
    this.client.subscriber.error(error);
    this.closeIfDone();
  }

  private emitText(text: string): void {
    this.emitted += text;
    this.client.subscriber.next({ type: 'delta', text });
  }

  private closeIfDone(): void {
    if (this.closed || !this.runnerReleased || this.outcomeValue === null) return;
    this.closed = true;
    this.progressSubscription.unsubscribe();
    this.onClosed();
  }
}
