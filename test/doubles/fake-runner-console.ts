import { Subject } from 'rxjs';

/** RunnerOutput of @qwen/model's RunnerSupervisor, as a turn sees it. */
export type FakeRunnerOutput =
  | { type: 'output' }
  | { type: 'text'; text: string }
  | { type: 'footer'; tokensPerSecond: number | null }
  | { type: 'device-dead-suspected' }
  | { type: 'prompt' }
  | { type: 'exit'; how: string };

/** The runner as one GenerationTurn drives it: records what the turn did; the test plays the runner. */
export class FakeRunnerConsole {
  readonly output = new Subject<FakeRunnerOutput>();
  readonly output$ = this.output.asObservable();
  readonly typed: string[] = [];
  readonly actions: string[] = [];
  deviceDeadSuspected = false;
  atPrompt = true;

  type(line: string): boolean {
    if (!this.atPrompt) return false;
    this.atPrompt = false;
    this.typed.push(line);
    return true;
  }
  interrupt(): void {
    this.actions.push('ctrl-c');
  }
  kill(reason: string): void {
    this.actions.push(`kill: ${reason}`);
  }
  declareDeviceDead(line: string): void {
    this.actions.push(`device-dead: ${line}`);
  }
}
