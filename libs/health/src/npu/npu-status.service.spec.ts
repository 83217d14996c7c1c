import { join } from 'node:path';
import { HealthClock } from '../health-clock';
import { HealthModuleOptions } from '../health.options';
import { CommandOutcome, CommandRunner } from './command-runner';
import { NpuStatusService } from './npu-status.service';

const FIXTURES = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'axcl-smi');

class FakeClock extends HealthClock {
  t = 1_000_000;
  override now(): number {
    return this.t;
  }
}

function service(smiPath: string, runner: CommandRunner = new CommandRunner(), clock: HealthClock = new HealthClock(), cacheMs = 5000) {
  const options: HealthModuleOptions = { npu: { smiPath, timeoutMs: 400, cacheMs } };
  return new NpuStatusService(options, runner, clock);
}

describe(NpuStatusService.name, () => {
  it('reports a present card with its figures and the raw table', async () => {
    const status = await service(join(FIXTURES, 'axcl-smi-ok.sh')).status();
    expect(status).toMatchObject({ state: 'ok', cardPresent: true, message: null, toolVersion: 'V3.6.2_20250603154858' });
    expect(status.cards[0]).toMatchObject({ temperatureC: 61, npuUsagePercent: 37, cmm: { usedMiB: 1642, totalMiB: 7040 } });
    expect(status.summary).toContain('| Card  Name');
    expect(status.summary).toContain('./main_axcl_aarch64');
  });

  it('reports unknown, not an error, when the tool is not installed', async () => {
    const status = await service('/nonexistent/dir/axcl-smi').status();
    expect(status).toMatchObject({ state: 'unknown', cardPresent: null, cards: [] });
    expect(status.message).toMatch(/no NPU status tool installed/);
  });

  it('reports no-card with the tool message when it exits non-zero', async () => {
    const status = await service(join(FIXTURES, 'axcl-smi-no-card.sh')).status();
    expect(status).toMatchObject({ state: 'no-card', cardPresent: false });
    expect(status.message).toBe('the NPU status tool exited with status 1: axcl-smi: get device list fail');
    expect(status.summary).toContain('no device found');
  });

  it('reports a timeout when the tool hangs, within its deadline', async () => {
    const started = Date.now();
    const status = await service(join(FIXTURES, 'axcl-smi-hang.sh')).status();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(status).toMatchObject({ state: 'timeout', cardPresent: null });
    expect(status.message).toBe('the NPU status tool did not answer within 400 ms and was killed');
  });

  describe('caching', () => {
    const exited: CommandOutcome = { kind: 'exited', code: 0, signal: null, stdout: '|    0  AX8850  V3 | 0001:01:00.0 | 1 MiB / 2 MiB |', stderr: '' };

    it('runs the tool once per cacheMs, then again', async () => {
      const clock = new FakeClock();
      const runner = { run: jest.fn().mockResolvedValue(exited) } as unknown as CommandRunner;
      const npu = service('axcl-smi', runner, clock, 5000);
      const first = await npu.status();
      clock.t += 4999;
      expect(await npu.status()).toBe(first);
      expect(runner.run).toHaveBeenCalledTimes(1);
      expect(runner.run).toHaveBeenCalledWith('axcl-smi', [], { timeoutMs: 400 });
      clock.t += 1;
      const third = await npu.status();
      expect(third).not.toBe(first);
      expect(runner.run).toHaveBeenCalledTimes(2);
    });

    it('shares one run between concurrent callers', async () => {
      let release!: (o: CommandOutcome) => void;
      const runner = { run: jest.fn(() => new Promise<CommandOutcome>((resolve) => (release = resolve))) } as unknown as CommandRunner;
      const npu = service('axcl-smi', runner, new FakeClock(), 0);
      const calls = [npu.status(), npu.status(), npu.status()];
      release(exited);
      const results = await Promise.all(calls);
      expect(runner.run).toHaveBeenCalledTimes(1);
      expect(results[0].state).toBe('ok');
      expect(new Set(results).size).toBe(1);
    });
  });
});
