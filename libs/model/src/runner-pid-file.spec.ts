import { Clock } from '@qwen/supervision';
import { ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { RunnerPidFile } from './runner-pid-file';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function exitOf(child: ChildProcess): Promise<NodeJS.Signals | null> {
  return new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
}

describe(RunnerPidFile.name, () => {
  let root: string;
  let modelDir: string;
  let runDir: string;
  let workDir: string;
  const children: ChildProcess[] = [];
  const pids: number[] = [];
  const pidFile = new RunnerPidFile(new Clock());
  const runner = () => ({ binary: join(modelDir, 'main_axcl_x86'), workDir });
  const track = (child: ChildProcess) => (children.push(child), child);

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'runner-pid-file-'));
    modelDir = join(root, 'model');
    runDir = join(root, 'run');
    workDir = join(runDir, 'runner');
    mkdirSync(modelDir);
    mkdirSync(workDir, { recursive: true });
    // A real executable at the runner's path: a copy of /bin/sh (so it can have a child of its own).
    copyFileSync('/bin/sh', join(modelDir, 'main_axcl_x86'));
  });

  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    for (const pid of pids.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  it("signals the model directory's runner in its working directory, that pid only: a child in its process group is left alone", async () => {
    const stale = track(spawn(join(modelDir, 'main_axcl_x86'), ['-c', 'sleep 600 & echo $!; wait'], { cwd: workDir, detached: true, stdio: ['ignore', 'pipe', 'ignore'] }));
    const [line] = await createInterface({ input: stale.stdout! })[Symbol.asyncIterator]().next().then((r) => [r.value as string]);
    const bystander = Number(line);
    pids.push(bystander);
    const exited = exitOf(stale);
    await pidFile.write(runDir, stale.pid!);

    await expect(pidFile.stopStale(runDir, runner(), 2000)).resolves.toBe(stale.pid);
    expect(await exited).toBe('SIGTERM');
    expect(alive(bystander)).toBe(true);
    expect(existsSync(pidFile.path(runDir))).toBe(false);
  });

  it('leaves alone a process whose command line names the runner but whose executable is not it', async () => {
    const impostor = track(spawn('/bin/bash', ['-c', 'sleep 600', 'main_axcl_x86'], { cwd: workDir, stdio: 'ignore' }));
    await pidFile.write(runDir, impostor.pid!);
    await expect(pidFile.stopStale(runDir, runner(), 2000)).resolves.toBeNull();
    expect(alive(impostor.pid!)).toBe(true);
    expect(existsSync(pidFile.path(runDir))).toBe(false);
  });

  it('leaves alone the runner binary running in another directory', async () => {
    const elsewhere = join(root, 'elsewhere');
    mkdirSync(elsewhere);
    const other = track(spawn(join(modelDir, 'main_axcl_x86'), ['-c', 'sleep 600; :'], { cwd: elsewhere, stdio: 'ignore' }));
    await pidFile.write(runDir, other.pid!);
    await expect(pidFile.stopStale(runDir, runner(), 2000)).resolves.toBeNull();
    expect(alive(other.pid!)).toBe(true);
  });

  it('ignores a pid file naming a process that is gone or garbage', async () => {
    mkdirSync(runDir, { recursive: true });
    writeFileSync(pidFile.path(runDir), 'not a pid\n');
    await expect(pidFile.stopStale(runDir, runner(), 2000)).resolves.toBeNull();
    await expect(pidFile.stopStale(runDir, runner(), 2000)).resolves.toBeNull();
  });
});
