/**
 * The service binary itself: a bad configuration value stops it at once with a non-zero status and
 * a message naming the key — no stack trace (issue 2). Requires `npm run build`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findInstallRoot } from '@qwen/config';
import { freePort } from './support/free-port';

const main = join(findInstallRoot(__dirname), 'dist', 'apps', 'qwen-chat', 'src', 'main.js');

function start(env: Record<string, string>): { status: number | null; stderr: string } {
  const cwd = mkdtempSync(join(tmpdir(), 'qwen-start-'));
  const result = spawnSync(process.execPath, [main], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 20000 });
  return { status: result.status, stderr: result.stderr };
}

describe('qwen-chat start-up with a bad configuration', () => {
  it('names the environment variable, the key and what was expected, and exits 2', () => {
    const { status, stderr } = start({ QWEN_PORT: 'eighty' });
    expect(status).toBe(2);
    expect(stderr).toContain('QWEN_PORT (server.port): must be a whole number (got "eighty")');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('names a bad key of the QWEN_CONFIG file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qwen-start-'));
    const file = join(dir, 'local.yaml');
    writeFileSync(file, 'tokenizer:\n  mode: rust\n');
    const { status, stderr } = start({ QWEN_CONFIG: file });
    expect(status).toBe(2);
    expect(stderr).toMatch(/tokenizer\.mode: .*builtin, upstream \(got "rust"\)/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});

describe('qwen-chat start-up on a run directory another instance owns', () => {
  it("refuses to start, naming the other instance's pid, and leaves its lock alone", async () => {
    const root = mkdtempSync(join(tmpdir(), 'qwen-start-'));
    const runDir = join(root, 'run');
    mkdirSync(runDir);
    // This test process stands for the instance that owns the directory.
    writeFileSync(join(runDir, 'qwen-chat.pid'), `${process.pid}\n`);
    const { status, stderr } = start({
      QWEN_RUN_DIR: runDir,
      QWEN_LOG_DIR: join(root, 'logs'),
      QWEN_MODEL_DIR: join(root, 'model'),
      QWEN_PORT: String(await freePort()),
      QWEN_TOKENIZER_PORT: String(await freePort()),
    });
    expect(status).toBe(1);
    expect(stderr).toContain(`belongs to another qwen-chat instance (pid ${process.pid})`);
    expect(readFileSync(join(runDir, 'qwen-chat.pid'), 'utf8').trim()).toBe(String(process.pid));
  });
});
