import type { RunnerOutput } from '@qwen/model';
import { Subject } from 'rxjs';

/** The runner as one GenerationTurn drives it: records what the turn did; the test plays the runner. */
export class FakeRunnerConsole {
  readonly output = new Subject<RunnerOutput>();
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
