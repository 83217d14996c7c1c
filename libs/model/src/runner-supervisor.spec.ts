import { Logger } from '@nestjs/common';
import type { ModelConfig, SamplingConfig } from '@qwen/config';
import type { TokenizerBridge } from '@qwen/tokenizer';
import { lastValueFrom, take, toArray } from 'rxjs';
import { FakeTokenizerBridge } from '../../../test/doubles/fake-tokenizer-bridge';
import { FakeRunnerProcess } from '../../../test/doubles/fake-runner';
import { flushPromises, ManualClock } from '../../../test/doubles/manual-clock';
import { deviceDeadBurst, logRecord, startupStream, turnStream } from '../../../test/fixtures/runner-output';
import type { ModelModuleOptions } from './model.options';
import type { RunnerPidFile } from './runner-pid-file';
import type { RunnerProcess } from './runner-process';
import { RunnerOutput, RunnerSupervisor } from './runner-supervisor';

const model = {
  runnerBinary: 'main_axcl_x86',
  loadTimeoutMs: 60_000,
  stopGraceMs: 1_000,
  restartInitialDelayMs: 1_000,
  restartMaxDelayMs: 8_000,
  maxConsecutiveFailures: 4,
} as ModelConfig;

describe(RunnerSupervisor.name, () => {
  let clock: ManualClock;
  let runners: FakeRunnerProcess;
  let pidFile: { written: number[]; removed: number; stopStale: () => Promise<null>; write: (dir: string, pid: number) => Promise<void>; remove: () => Promise<void> };
  let supervisor: RunnerSupervisor;
  let outputs: RunnerOutput[];

  beforeEach(() => {
    clock = new ManualClock();
    runners = new FakeRunnerProcess();
    pidFile = {
      written: [],
      removed: 0,
      stopStale: async () => null,
      write: async (_dir, pid) => void pidFile.written.push(pid),
      remove: async () => void (pidFile.removed += 1),
    };
    const options: ModelModuleOptions = { model, paths: { modelDir: '/model', logDir: '/logs', runDir: '/run' }, tokenizer: { host: '127.0.0.1', port: 1 } };
    supervisor = new RunnerSupervisor(options, runners as unknown as RunnerProcess, pidFile as unknown as RunnerPidFile, new FakeTokenizerBridge(() => clock.now()) as unknown as TokenizerBridge, clock);
    outputs = [];
    supervisor.output$.subscribe((output) => outputs.push(output));
  });

  async function loaded(): Promise<void> {
    void supervisor.start();
    await flushPromises();
    runners.last.print(startupStream());
  }

  it('spawns with the tokenizer URL, writes the pid file, and is ready at the first prompt', async () => {
    const phases = lastValueFrom(supervisor.state$.pipe(take(4), toArray()));
    await loaded();
    expect((await phases).map((s) => s.phase)).toEqual(['stopped', 'waiting-for-tokenizer', 'loading', 'loading']);
    expect(runners.spawned[0].args).toContain('http://127.0.0.1:12345');
    expect(pidFile.written).toEqual([1000]);
    expect(supervisor.state()).toMatchObject({ phase: 'ready', pid: 1000, loads: 1, maxTokenLen: 1024 });
  });

  it('starts the runner with a minimal environment: no API keys, no admin token, the emulator settings kept', async () => {
    process.env.QWEN_API_KEYS = 'sk-must-not-leak';
    process.env.QWEN_ADMIN_TOKEN = 'admin-must-not-leak';
    try {
      await loaded();
    } finally {
      delete process.env.QWEN_API_KEYS;
      delete process.env.QWEN_ADMIN_TOKEN;
    }
    const env = runners.spawned[0].env;
    expect(env.PATH).toBe(process.env.PATH);
    expect(env).not.toHaveProperty('QWEN_API_KEYS');
    expect(env).not.toHaveProperty('QWEN_ADMIN_TOKEN');
  });

  it('stops with "q" at the prompt, then SIGTERM, then SIGKILL, a grace apart, and restarts nothing', async () => {
    await loaded();
    const runner = runners.last;
    let stopped = false;
    void supervisor.stop().then(() => (stopped = true));
    await flushPromises();
    expect(runner.written).toEqual(['q\n']);
    await clock.advance(1_000);
    expect(runner.signals).toEqual(['SIGTERM']);
    await clock.advance(1_000);
    expect(runner.signals).toEqual(['SIGTERM', 'SIGKILL']);
    await flushPromises();
    expect(stopped).toBe(true);
    expect(supervisor.state()).toMatchObject({ phase: 'stopped', pid: null });
    expect(clock.pendingDelays()).toEqual([]);
    expect(pidFile.removed).toBe(1);
  });

  it('is stopped, not failed, when a shutdown stops the tokenizer it was waiting for', async () => {
    const bridge = new FakeTokenizerBridge(() => clock.now());
    let tokenizerStopped!: (error: Error) => void;
    bridge.whenReady = () => new Promise<void>((_, reject) => (tokenizerStopped = reject));
    const options: ModelModuleOptions = { model, paths: { modelDir: '/model', logDir: '/logs', runDir: '/run' }, tokenizer: { host: '127.0.0.1', port: 1 } };
    const waiting = new RunnerSupervisor(options, runners as unknown as RunnerProcess, pidFile as unknown as RunnerPidFile, bridge as unknown as TokenizerBridge, clock);
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const started = waiting.start();
    await flushPromises();
    expect(waiting.state().phase).toBe('waiting-for-tokenizer');
    await waiting.stop();
    tokenizerStopped(new Error('tokenizer unavailable (stopped)'));
    await started;
    expect(errors).not.toHaveBeenCalled();
    expect(waiting.state()).toMatchObject({ phase: 'stopped', consecutiveFailures: 0, lastError: null });
    expect(runners.spawned).toEqual([]);
    expect(clock.pendingDelays()).toEqual([]);
    errors.mockRestore();
  });

  it('never types "q" while a turn is in flight', async () => {
    await loaded();
    const runner = runners.last;
    expect(supervisor.type('qh-1')).toBe(true);
    expect(supervisor.type('qh-2')).toBe(false); // one line per turn
    void supervisor.stop();
    await flushPromises();
    expect(runner.written).toEqual(['qh-1\n']);
    expect(runner.signals).toEqual(['SIGTERM']);
    runner.exit(0, 15);
    await flushPromises();
    expect(outputs).toContainEqual({ type: 'exit', how: 'signal 15' });
  });

  it('kills a runner that does not load in time, and counts it as a failed start', async () => {
    void supervisor.start();
    await flushPromises();
    await clock.advance(60_000);
    expect(runners.last.signals).toEqual(['SIGKILL']);
    await flushPromises();
    expect(supervisor.state()).toMatchObject({ phase: 'restarting', consecutiveFailures: 1, lastError: 'the runner exited with signal 9 while loading' });
    expect(clock.pendingDelays()).toEqual([1_000]);
  });

  it('tells the turn its text, its footer and the prompt, and resets the crash streak there', async () => {
    await loaded();
    runners.last.exit(0, 11); // a crash after a healthy load: streak 1
    await clock.advance(1_000);
    runners.last.print(startupStream());
    supervisor.type('qh-1');
    runners.last.print(turnStream('hi'));
    expect(outputs.filter((o) => o.type !== 'output')).toEqual([
      { type: 'text', text: 'hi' },
      { type: 'footer', tokensPerSecond: 13.28 },
      { type: 'prompt' },
    ]);
    runners.last.exit(0, 11); // the streak was reset at the prompt: the first delay again
    await flushPromises();
    expect(clock.pendingDelays()).toEqual([1_000]);
  });

  it('declares the device dead at once when the burst comes at the prompt, and gives up', async () => {
    await loaded();
    runners.last.print(deviceDeadBurst(5));
    await flushPromises();
    expect(runners.last.signals).toEqual(['SIGKILL']);
    expect(supervisor.state()).toMatchObject({ phase: 'failed', deviceDead: true });
    expect(clock.pendingDelays()).toEqual([]);
  });

  it('leaves the failed state with resetFailures() and starts again', async () => {
    await loaded();
    runners.last.print(deviceDeadBurst(5));
    await flushPromises();
    supervisor.resetFailures();
    await loaded();
    expect(supervisor.state()).toMatchObject({ phase: 'ready', deviceDead: false, lastError: null, loads: 2 });
  });

  describe('says why a start failed', () => {
    const BANNER = 'build time: Feb 13 2025 15:44:57\n' + logRecord('I', 'Init', 111, 'LLM init start') + '\n';
    const AXMODEL_FAILED = logRecord('E', 'Init', 178, 'init axmodel(qwen2.5-1.5b-gptq-int4-ax650/qwen2_p128_l0_together.axmodel) failed') + '\n';

    async function failStart(output: string): Promise<void> {
      void supervisor.start();
      await flushPromises();
      runners.last.print(output);
      runners.last.exit(255);
      await flushPromises();
    }

    it('quotes the card refusing the service user, hints at the device group, and does not restart', async () => {
      await failStart(
        BANNER +
          '[E][init][ 386]: Set AXCL device failed{0x80300186}.\n' +
          '[2025-11-09 08:40:00.001][4242][E][device manager][request_ports][464]: request ports from device 1 fail, errno: 1 Operation not permitted\n' +
          AXMODEL_FAILED,
      );
      const state = supervisor.state();
      expect(state.phase).toBe('failed');
      expect(state.deviceDead).toBe(false);
      expect(state.lastError).toContain('the runner exited with status 255 while loading: [E][init][ 386]: Set AXCL device failed{0x80300186}.');
      expect(state.lastError).toMatch(/ls -l \/dev\/axcl\*.*usermod -aG/);
      expect(clock.pendingDelays()).toEqual([]);
      expect(runners.runners).toHaveLength(1);
    });

    it('quotes the missing driver, hints how to check it, and does not restart', async () => {
      await failStart(BANNER + 'axcl init fail, ret = 0x8030010b\nopen /dev/axcl_host fail, errno: 2 No such file or directory\n' + AXMODEL_FAILED);
      expect(supervisor.state().phase).toBe('failed');
      expect(supervisor.state().lastError).toContain('axcl init fail, ret = 0x8030010b — the AXCL driver is not loaded: check `lsmod | grep -i axcl` and `ls /dev/axcl*`');
      expect(clock.pendingDelays()).toEqual([]);
    });

    it('quotes the runner\'s [E] record for a missing model file, points at the download script, and keeps retrying', async () => {
      await failStart(BANNER + AXMODEL_FAILED);
      expect(supervisor.state()).toMatchObject({ phase: 'restarting', consecutiveFailures: 1 });
      expect(supervisor.state().lastError).toContain('[E][Init][178]: init axmodel(qwen2.5-1.5b-gptq-int4-ax650/qwen2_p128_l0_together.axmodel) failed');
      expect(supervisor.state().lastError).toContain('scripts/download_models.sh');
    });

    it('names the download script when the runner binary is not there', async () => {
      runners.spawn = async () => {
        throw new Error("ENOENT: no such file or directory, posix_spawnp './main_axcl_x86'");
      };
      void supervisor.start();
      await flushPromises();
      expect(supervisor.state().lastError).toMatch(/cannot start main_axcl_x86 in \/model: ENOENT.* — the model is not downloaded .*run scripts\/download_models\.sh/);
    });

    it('forgets an unusable card on an operator reload (resetFailures) and starts again', async () => {
      await failStart(BANNER + 'axcl init fail, ret = 0x8030010b\n' + AXMODEL_FAILED);
      expect(supervisor.state().phase).toBe('failed');
      supervisor.resetFailures();
      await loaded();
      expect(supervisor.state()).toMatchObject({ phase: 'ready', lastError: null });
    });
  });

  describe('starts the runner in its own directory with the sampling to use', () => {
    it('gives absolute model paths, runs it under the run directory, and copies the model repository\'s post_config.json', async () => {
      await loaded();
      const spawned = runners.spawned[0];
      expect(spawned.cwd).toBe('/run/runner');
      expect(spawned.binary).toBe('/model/main_axcl_x86');
      expect(spawned.args).toEqual(expect.arrayContaining(['/model/qwen2.5-1.5b-gptq-int4-ax650/qwen2_p128_l%d_together.axmodel', '/model/qwen2.5-1.5b-gptq-int4-ax650/qwen2_post.axmodel']));
      expect(spawned.args.filter((arg) => arg.includes('qwen2.5-1.5b-gptq-int4-ax650')).every((arg) => arg.startsWith('/model/'))).toBe(true);
      expect(spawned.files).toEqual({ 'post_config.json': { copyFrom: '/model/post_config.json' } });
    });

    it('writes the configured sampling when the source is config', async () => {
      const sampling: SamplingConfig = {
        source: 'config',
        enableTemperature: false,
        temperature: 0.7,
        enableTopK: false,
        topK: 1,
        enableTopP: false,
        topP: 0.8,
        enableRepetitionPenalty: true,
        repetitionPenalty: 1.1,
        penaltyWindow: 32,
      };
      supervisor.configure({ model, paths: { modelDir: '/model', logDir: '/logs', runDir: '/run' }, tokenizer: { host: '127.0.0.1', port: 1 }, sampling });
      await loaded();
      const file = runners.spawned[0].files?.['post_config.json'];
      expect(file && 'content' in file ? JSON.parse(file.content) : null).toEqual({
        enable_repetition_penalty: true,
        enable_temperature: false,
        enable_top_k_sampling: false,
        enable_top_p_sampling: false,
        penalty_window: 32,
        repetition_penalty: 1.1,
        temperature: 0.7,
        top_k: 1,
        top_p: 0.8,
      });
    });
  });
});
