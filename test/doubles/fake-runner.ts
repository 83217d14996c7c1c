import type { RunnerExit, RunnerHandle, RunnerProcess, RunnerSpawnOptions } from '@qwen/model';

/** A runner under a pretend terminal: the test prints its output and decides when it exits. */
export class FakeRunner implements RunnerHandle {
  readonly written: string[] = [];
  readonly signals: string[] = [];
  /** The output kinds the supervisor declared, in order (model text during a turn). */
  readonly outputKinds: string[] = [];
  private dataListeners: Array<(chunk: string) => void> = [];
  private exitListeners: Array<(exit: RunnerExit) => void> = [];

  constructor(readonly pid: number) {}

  write(data: string): void {
    this.written.push(data);
  }
  onData(listener: (chunk: string) => void): void {
    this.dataListeners.push(listener);
  }
  onExit(listener: (exit: RunnerExit) => void): void {
    this.exitListeners.push(listener);
  }
  /** SIGKILL ends it at once; other signals are only recorded. */
  signalGroup(signal: NodeJS.Signals): void {
    this.signals.push(signal);
    if (signal === 'SIGKILL') this.exit(0, 9);
  }
  setOutputKind(kind: string): void {
    this.outputKinds.push(kind);
  }
  print(text: string): void {
    for (const listener of this.dataListeners) listener(text);
  }
  exit(exitCode: number, signal: number | null = null): void {
    for (const listener of this.exitListeners.splice(0)) listener({ exitCode, signal });
  }
}

/** RunnerProcess that hands out FakeRunners (pids 1000, 1001, …) and keeps them for the test. */
export class FakeRunnerProcess implements Pick<RunnerProcess, 'spawn'> {
  readonly runners: FakeRunner[] = [];
  readonly spawned: RunnerSpawnOptions[] = [];

  async spawn(options: RunnerSpawnOptions): Promise<FakeRunner> {
    const runner = new FakeRunner(1000 + this.runners.length);
    this.spawned.push(options);
    this.runners.push(runner);
    return runner;
  }

  get last(): FakeRunner {
    return this.runners[this.runners.length - 1];
  }
}
