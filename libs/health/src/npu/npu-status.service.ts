import { Inject, Injectable, Logger } from '@nestjs/common';
import { HealthClock } from '../health-clock';
import { HEALTH_OPTIONS, HealthModuleOptions } from '../health.options';
import { AxclSmiReport, parseAxclSmi } from './axcl-smi-parser';
import { CommandOutcome, CommandRunner } from './command-runner';

/**
 * - `ok`: the tool ran and shows at least one card;
 * - `no-card`: the tool ran but shows no card, or reports an error (exit status ≠ 0);
 * - `timeout`: the tool hung and was killed;
 * - `unknown`: the tool is not installed here (normal without the card's driver, e.g. with the emulator).
 */
export type NpuState = 'ok' | 'no-card' | 'timeout' | 'unknown';

export interface NpuStatus extends AxclSmiReport {
  state: NpuState;
  /** null when it cannot be told (tool absent or hung). */
  cardPresent: boolean | null;
  /** Why the state is not `ok`, in words. */
  message: string | null;
  /** What the tool printed (trimmed, at most 4 KB): the operator sees exactly what axcl-smi said. */
  summary: string;
  /** When the tool was run (ISO 8601): the answer is reused for npu.cacheMs. */
  checkedAt: string;
}

const SUMMARY_MAX_CHARS = 4096;

/**
 * The card's status from `axcl-smi`, always under a deadline (the tool can hang with a wedged
 * driver), cached for npu.cacheMs, and run at most once at a time however many callers ask.
 */
@Injectable()
export class NpuStatusService {
  private readonly logger = new Logger(NpuStatusService.name);
  private cached: { status: NpuStatus; at: number } | null = null;
  private running: Promise<NpuStatus> | null = null;

  constructor(
    @Inject(HEALTH_OPTIONS) private readonly options: HealthModuleOptions,
    private readonly runner: CommandRunner,
    private readonly clock: HealthClock,
  ) {}

  status(): Promise<NpuStatus> {
    const { cacheMs } = this.options.npu;
    if (this.cached && this.clock.now() - this.cached.at < cacheMs) return Promise.resolve(this.cached.status);
    this.running ??= this.probe().finally(() => (this.running = null));
    return this.running;
  }

  private async probe(): Promise<NpuStatus> {
    const { smiPath, timeoutMs } = this.options.npu;
    const startedAt = this.clock.now();
    const outcome = await this.runner.run(smiPath, [], { timeoutMs });
    const status = toStatus(outcome, new Date(startedAt).toISOString());
    if (status.state === 'timeout' || status.state === 'no-card') {
      if (this.cached?.status.state !== status.state) this.logger.warn(`${smiPath}: ${status.message}`);
    }
    this.cached = { status, at: this.clock.now() };
    return status;
  }
}

function toStatus(outcome: CommandOutcome, checkedAt: string): NpuStatus {
  const empty: AxclSmiReport = { toolVersion: null, driverVersion: null, cards: [], processes: [] };
  switch (outcome.kind) {
    case 'not-found':
      return { ...empty, state: 'unknown', cardPresent: null, message: `${outcome.message} (no NPU status tool installed)`, summary: '', checkedAt };
    case 'failed':
      return { ...empty, state: 'unknown', cardPresent: null, message: `cannot run the NPU status tool: ${outcome.message}`, summary: '', checkedAt };
    case 'timed-out':
      return {
        ...empty,
        state: 'timeout',
        cardPresent: null,
        message: `the NPU status tool did not answer within ${outcome.timeoutMs} ms and was killed`,
        summary: summary(outcome.stdout, outcome.stderr),
        checkedAt,
      };
    case 'exited': {
      const report = parseAxclSmi(outcome.stdout);
      const text = summary(outcome.stdout, outcome.stderr);
      if (outcome.code !== 0) {
        const how = outcome.signal ? `signal ${outcome.signal}` : `status ${outcome.code}`;
        const detail = lastLine(outcome.stderr) ?? lastLine(outcome.stdout);
        return { ...report, state: 'no-card', cardPresent: false, message: `the NPU status tool exited with ${how}${detail ? `: ${detail}` : ''}`, summary: text, checkedAt };
      }
      if (report.cards.length === 0) {
        return { ...report, state: 'no-card', cardPresent: false, message: 'the NPU status tool shows no card', summary: text, checkedAt };
      }
      return { ...report, state: 'ok', cardPresent: true, message: null, summary: text, checkedAt };
    }
  }
}

function summary(stdout: string, stderr: string): string {
  const text = [stdout.trim(), stderr.trim()].filter(Boolean).join('\n');
  return text.length > SUMMARY_MAX_CHARS ? `${text.slice(0, SUMMARY_MAX_CHARS)}…` : text;
}

function lastLine(text: string): string | null {
  const lines = text.trim().split(/\r?\n/).filter((line) => line.trim());
  return lines.length > 0 ? lines[lines.length - 1].trim().slice(0, 300) : null;
}
