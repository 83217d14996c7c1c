import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelModuleOptions } from './model.options';
import { RUN_DIRECTORY_LOCK_FILE, RunDirectoryLock } from './run-directory-lock';

describe(RunDirectoryLock.name, () => {
  let root: string;
  let runDir: string;
  const lockFor = () => new RunDirectoryLock({ paths: { runDir } } as ModelModuleOptions);

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'run-dir-lock-'));
    runDir = join(root, 'run');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('takes the run directory (0700, lock 0600 naming this pid) and gives it back at shutdown', () => {
    const lock = lockFor();
    lock.onModuleInit();
    const file = join(runDir, RUN_DIRECTORY_LOCK_FILE);
    expect(readFileSync(file, 'utf8').trim()).toBe(String(process.pid));
    expect(statSync(runDir).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    lock.onApplicationShutdown();
    expect(existsSync(file)).toBe(false);
  });

  it('refuses a run directory another live instance owns, naming its pid', async () => {
    const other = spawn('sleep', ['600'], { stdio: 'ignore' });
    try {
      mkdirSync(runDir, { recursive: true });
      writeFileSync(join(runDir, RUN_DIRECTORY_LOCK_FILE), `${other.pid}\n`);
      expect(() => lockFor().onModuleInit()).toThrow(new RegExp(`belongs to another qwen-chat instance \\(pid ${other.pid}\\).*QWEN_RUN_DIR`));
      expect(readFileSync(join(runDir, RUN_DIRECTORY_LOCK_FILE), 'utf8').trim()).toBe(String(other.pid));
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('takes over a lock left by an instance that is gone', async () => {
    const gone = spawn('true');
    await new Promise((resolve) => gone.once('exit', resolve));
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, RUN_DIRECTORY_LOCK_FILE), `${gone.pid}\n`);
    const lock = lockFor();
    lock.onModuleInit();
    expect(readFileSync(join(runDir, RUN_DIRECTORY_LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    lock.onApplicationShutdown();
  });
});
