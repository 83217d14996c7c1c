import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { CommandRunner } from './command-runner';

const FIXTURES = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'axcl-smi');

function processesRunning(fragment: string): number {
  const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  return ps.split('\n').filter((line) => line.includes(fragment)).length;
}

async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
}

describe(CommandRunner.name, () => {
  const runner = new CommandRunner();

  it('returns the output and status of a program that finishes', async () => {
    const outcome = await runner.run(join(FIXTURES, 'axcl-smi-ok.sh'), [], { timeoutMs: 5000 });
    expect(outcome.kind).toBe('exited');
    if (outcome.kind !== 'exited') return;
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toContain('AX8850');
  });

  it('reports a non-zero exit with its stderr', async () => {
    const outcome = await runner.run(join(FIXTURES, 'axcl-smi-no-card.sh'), [], { timeoutMs: 5000 });
    expect(outcome).toMatchObject({ kind: 'exited', code: 1 });
    expect(outcome.kind === 'exited' && outcome.stderr).toContain('get device list fail');
  });

  it('reports a missing program as not-found', async () => {
    await expect(runner.run('/nonexistent/axcl-smi', [], { timeoutMs: 1000 })).resolves.toMatchObject({ kind: 'not-found' });
  });

  it('kills a hanging program and everything it started at the deadline', async () => {
    const script = join(FIXTURES, 'axcl-smi-hang.sh');
    const started = Date.now();
    const outcome = await runner.run(script, [], { timeoutMs: 300 });
    const elapsed = Date.now() - started;
    expect(outcome.kind).toBe('timed-out');
    expect(outcome.kind === 'timed-out' && outcome.stdout).toContain('+----');
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(2000);
    // The script and its `sleep 600` share the killed process group: neither survives.
    expect(await until(() => processesRunning(script) === 0, 2000)).toBe(true);
  });
});
