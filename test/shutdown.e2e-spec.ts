/**
 * Ctrl-C in a terminal sends SIGINT to the whole foreground process group: the service must stop in
 * order (the request in flight answered "shutting down", then the runner, then the tokenizer), and
 * its children must not get that SIGINT behind its back (issue 18). The built service runs as its own
 * process group, as a terminal's job does. Requires `npm run build`.
 */
import { findInstallRoot } from '@qwen/config';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmulatedModelDir } from '../scripts/make-emulated-model';
import { freePort } from './support';

const main = join(findInstallRoot(__dirname), 'dist', 'apps', 'qwen-chat', 'src', 'main.js');

describe('qwen-chat stopped by Ctrl-C in its terminal', () => {
  let root: string;
  let service: ChildProcess;
  let output = '';

  afterEach(() => {
    if (service.exitCode === null && service.signalCode === null) process.kill(-service.pid!, 'SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  /** Resolves once the service's output matches `pattern`. */
  function outputMatching(pattern: RegExp): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!pattern.test(output)) return;
        service.stdout!.off('data', check);
        service.off('exit', gone);
        resolve();
      };
      const gone = () => reject(new Error(`the service exited before ${pattern}:\n${output}`));
      service.stdout!.on('data', check);
      service.once('exit', gone);
      check();
    });
  }

  it('answers the stream in flight "shutting down" (503 shape), stops its children in order and logs no warning', async () => {
    root = mkdtempSync(join(tmpdir(), 'qwen-sigint-'));
    const modelDir = join(root, 'model');
    await createEmulatedModelDir({ target: modelDir });
    const port = await freePort();
    service = spawn(process.execPath, [main], {
      cwd: root,
      detached: true, // its own process group, like a job in a terminal
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        QWEN_PORT: String(port),
        QWEN_TOKENIZER_PORT: String(await freePort()),
        QWEN_MODEL_DIR: modelDir,
        QWEN_LOG_DIR: join(root, 'logs'),
        QWEN_RUN_DIR: join(root, 'run'),
        QWEN_EMU_LOAD_MS: '0',
        QWEN_EMU_PROMPT_TOKEN_MS: '0',
        QWEN_EMU_TOKEN_MS: '20',
        QWEN_EMU_REPEAT: '200',
      },
    });
    service.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    service.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => service.once('exit', (code, signal) => resolve({ code, signal })));

    await outputMatching(/READY: the model is loaded/);
    expect(output).not.toContain('\u001b['); // not a terminal: no colour codes

    const response = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'qwen2.5', stream: true, messages: [{ role: 'user', content: 'Tell me a long story' }] }),
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let body = '';
    while (!body.includes('"content"')) body += decoder.decode((await reader.read()).value);

    process.kill(-service.pid!, 'SIGINT'); // what Ctrl-C does: the whole foreground group
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      body += decoder.decode(value);
    }
    const { code, signal } = await exited;

    const errorEvent = /data: (\{"error".*\})\n/.exec(body);
    expect(errorEvent).not.toBeNull();
    expect(JSON.parse(errorEvent![1])).toEqual({
      error: { message: expect.stringContaining('shutting down'), type: 'server_error', param: null, code: 'model_unavailable' },
    });
    expect(code === 0 || signal === 'SIGINT').toBe(true);
    expect(output).toContain('runner stopped');
    expect(output).toContain('stopping the tokenizer');
    expect(output).not.toMatch(/ (WARN|ERROR) /);
    expect(output).not.toMatch(/restart #|signal 11|SIGSEGV|model_process_failed/);
  }, 30000);
});
