import type { TokenizerConfig } from '@qwen/config';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILTIN_TOKENIZER_RUNTIME, TokenizerChild, TokenizerExit, TokenizerProcess } from './tokenizer-process';
import { tokenizerStrategy } from './tokenizer-strategy';
import { TokenizerModuleOptions } from './tokenizer.options';

const TOKENIZER = {
  mode: 'builtin',
  host: '127.0.0.1',
  port: 12345,
  python: 'python3',
  handleTtlMs: 120000,
  defaultSystemPrompt: null,
  rawPromptSpecialTokens: false,
} as TokenizerConfig;

function exitOf(child: TokenizerChild): Promise<TokenizerExit> {
  return new Promise((resolve) => child.onExit(resolve));
}

describe('tokenizerStrategy(mode).launch', () => {
  const tokenizerLaunch = (options: TokenizerModuleOptions, installRoot: string) => tokenizerStrategy(options.tokenizer.mode).launch(options, installRoot);
  const paths = { modelDir: '/models/qwen', logDir: '/var/log/qwen', runDir: '/run/qwen' };

  it('forks our compiled server from the install root in builtin mode', () => {
    const launch = tokenizerLaunch({ tokenizer: { ...TOKENIZER, defaultSystemPrompt: 'Be brief.' }, paths }, '/opt/qwen-chat');
    expect(launch).toEqual({
      kind: 'fork',
      command: '/opt/qwen-chat/dist/apps/tokenizer-server/src/main.js',
      args: ['--host', '127.0.0.1', '--port', '12345', '--model-dir', '/models/qwen', '--handle-ttl-ms', '120000', '--default-system-prompt', 'Be brief.'],
      cwd: '/opt/qwen-chat',
      logFile: '/var/log/qwen/tokenizer.log',
    });
  });

  it('leaves out --default-system-prompt when none is configured', () => {
    expect(tokenizerLaunch({ tokenizer: TOKENIZER, paths }, '/opt/q').args).not.toContain('--default-system-prompt');
  });

  it('runs qwen2.5_tokenizer.py with the configured python from the model directory in upstream mode', () => {
    const launch = tokenizerLaunch({ tokenizer: { ...TOKENIZER, mode: 'upstream', python: '/usr/bin/python3.11', port: 2345 }, paths }, '/opt/q');
    expect(launch).toEqual({
      kind: 'spawn',
      command: '/usr/bin/python3.11',
      args: ['qwen2.5_tokenizer.py', '--host', '127.0.0.1', '--port', '2345'],
      cwd: '/models/qwen',
      logFile: '/var/log/qwen/tokenizer.log',
    });
  });
});

describe(TokenizerProcess.name, () => {
  let root: string;
  let options: TokenizerModuleOptions;
  const processes = new TokenizerProcess();
  const start = (options: TokenizerModuleOptions) => processes.start(tokenizerStrategy('upstream').launch(options, root));

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'tokenizer-process-'));
    const modelDir = join(root, 'model');
    // Upstream mode with node as the "python": the script is JavaScript, which is all this test needs.
    mkdirSync(modelDir);
    writeFileSync(
      join(modelDir, 'qwen2.5_tokenizer.py'),
      `process.stdout.write('fake tokenizer ' + process.argv.slice(2).join(' ') + ' in ' + process.cwd() + '\\n');
       if (process.argv.includes('1')) process.exit(3);
       setInterval(() => undefined, 1000);`,
    );
    options = {
      tokenizer: { ...TOKENIZER, mode: 'upstream', python: process.execPath, port: 2345 },
      paths: { modelDir, logDir: join(root, 'logs', 'nested'), runDir: join(root, 'run') },
    };
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('starts the process, appends its output to tokenizer.log, and reports its exit signal', async () => {
    const child = start(options);
    const exited = exitOf(child);
    expect(child.pid).toEqual(expect.any(Number));
    const logFile = join(root, 'logs', 'nested', 'tokenizer.log');
    await waitFor(() => readFileSync(logFile, 'utf8').includes('fake tokenizer'));
    child.kill('SIGTERM');
    await expect(exited).resolves.toEqual({ code: null, signal: 'SIGTERM' });
    expect(child.exited).toBe(true);
    const log = readFileSync(logFile, 'utf8');
    expect(log).toContain('==== tokenizer start');
    expect(log).toContain(`fake tokenizer --host 127.0.0.1 --port 2345 in ${options.paths.modelDir}`);
    expect(log).toContain('==== tokenizer exit code= signal=SIGTERM');
  });

  it('reports the exit code of a process that ends by itself', async () => {
    const child = start({ ...options, tokenizer: { ...options.tokenizer, port: 1 } });
    await expect(exitOf(child)).resolves.toEqual({ code: 3, signal: null });
  });

  it('reports an interpreter that does not exist as an exit with an error', async () => {
    const child = start({ ...options, tokenizer: { ...options.tokenizer, python: join(root, 'no-such-python') } });
    const exit = await exitOf(child);
    expect(exit.error).toContain('ENOENT');
    expect(child.exited).toBe(true);
  });

  it('tells the last line the process wrote (its error), without stack frames or earlier runs', async () => {
    writeFileSync(
      join(options.paths.modelDir, 'qwen2.5_tokenizer.py'),
      `console.error('Traceback (most recent call last):\\n  at bind (socket.py:1)\\nOSError: [Errno 98] Address already in use\\n    at main (x.js:1)');
       process.exit(1);`,
    );
    const first = start(options);
    await exitOf(first);
    expect(first.lastOutputLine()).toBe('OSError: [Errno 98] Address already in use');
    writeFileSync(join(options.paths.modelDir, 'qwen2.5_tokenizer.py'), 'process.exit(1);');
    const second = start(options);
    await exitOf(second);
    expect(second.lastOutputLine()).toBeNull();
  });

  it('forks our server with its V8 and glibc memory settings (BUILTIN_TOKENIZER_RUNTIME)', async () => {
    const server = join(root, 'server.js');
    writeFileSync(server, `process.stdout.write('runtime: ' + process.execArgv.join(' ') + ' ' + process.env.MALLOC_MMAP_THRESHOLD_ + '\\n');`);
    const logFile = join(root, 'logs', 'tokenizer.log');
    await exitOf(processes.start({ kind: 'fork', command: server, args: [], cwd: root, logFile }));
    const { execArgv, env } = BUILTIN_TOKENIZER_RUNTIME;
    expect(readFileSync(logFile, 'utf8')).toContain(`runtime: ${execArgv.join(' ')} ${env.MALLOC_MMAP_THRESHOLD_}\n`);
  });

  it('gives our server a registration channel that a worker thread of the child reads and answers, apart from IPC', async () => {
    const server = join(root, 'registrations.js');
    // What our server does with it: a worker thread opens the fd named by --registration-fd and answers each line.
    writeFileSync(
      server,
      `const { Worker } = require('node:worker_threads');
       const fd = Number(process.argv[process.argv.indexOf('--registration-fd') + 1]);
       new Worker(\`
         const channel = new (require('node:net').Socket)({ fd: \${fd}, readable: true, writable: true });
         let text = '';
         channel.on('data', (chunk) => {
           text += chunk;
           for (let end = text.indexOf('\\\\n'); end !== -1; end = text.indexOf('\\\\n')) {
             const { id, request } = JSON.parse(text.slice(0, end));
             text = text.slice(end + 1);
             channel.write(JSON.stringify({ type: 'refused', id, error: { code: 'invalid_request', message: request.prompt.length + ' characters' } }) + '\\\\n');
           }
         });\`, { eval: true });
       process.on('message', (m) => process.send({ type: 'reported', id: m.id, report: null }));`,
    );
    const child = processes.start({ kind: 'fork', command: server, args: [], cwd: root, logFile: join(root, 'logs', 'tokenizer.log') });
    const messages: unknown[] = [];
    const received = new Promise<void>((resolve) => child.onMessage((message) => messages.push(message) === 3 && resolve()));
    const long = 'x'.repeat(300_000); // several pipe buffers
    expect(child.register({ type: 'register', id: 1, request: { prompt: long, contextWindow: 8 } })).toBe(true);
    expect(child.register({ type: 'register', id: 2, request: { prompt: 'ab', contextWindow: 8 } })).toBe(true);
    expect(child.send({ type: 'report', id: 3, handle: 'qh-x' })).toBe(true);
    await received;
    expect(messages).toEqual(
      expect.arrayContaining([
        { type: 'refused', id: 1, error: { code: 'invalid_request', message: '300000 characters' } },
        { type: 'refused', id: 2, error: { code: 'invalid_request', message: '2 characters' } },
        { type: 'reported', id: 3, report: null },
      ]),
    );
    const exited = exitOf(child);
    child.kill('SIGKILL');
    await exited;
    expect(child.register({ type: 'register', id: 4, request: { prompt: 'x', contextWindow: 8 } })).toBe(false);
  });

  it('gives the process a minimal environment, without the API keys or the admin token', async () => {
    writeFileSync(join(options.paths.modelDir, 'qwen2.5_tokenizer.py'), `process.stdout.write('environment: ' + Object.keys(process.env).sort().join(' ') + '\\n');`);
    const saved = { keys: process.env.QWEN_API_KEYS, admin: process.env.QWEN_ADMIN_TOKEN };
    process.env.QWEN_API_KEYS = 'sk-must-not-leak';
    process.env.QWEN_ADMIN_TOKEN = 'admin-must-not-leak';
    try {
      await exitOf(start(options));
    } finally {
      for (const [name, value] of [['QWEN_API_KEYS', saved.keys], ['QWEN_ADMIN_TOKEN', saved.admin]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    const line = readFileSync(join(root, 'logs', 'nested', 'tokenizer.log'), 'utf8').split('\n').find((l) => l.startsWith('environment: '))!;
    const names = line.slice('environment: '.length).split(' ');
    expect(names).toContain('PATH');
    expect(names).not.toContain('QWEN_API_KEYS');
    expect(names).not.toContain('QWEN_ADMIN_TOKEN');
  });

  it('refuses to start when the upstream script is missing', () => {
    rmSync(join(options.paths.modelDir, 'qwen2.5_tokenizer.py'));
    expect(() => start(options)).toThrow(/qwen2\.5_tokenizer\.py is missing/);
  });
});

async function waitFor(condition: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      if (condition()) return;
    } catch {
      // not there yet
    }
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
