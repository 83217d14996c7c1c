/**
 * scripts/start_qwen.sh, stop_qwen.sh and start_service.sh around a stand-in for the built
 * service (dist/apps/qwen-chat/src/main.js) that records what it was started with and how it
 * was stopped: the pid file, the log, the graceful SIGTERM and the kill after the timeout.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { copyProjectFiles, runScript, ScratchDir } from './script-fixtures';

jest.setTimeout(60000);

/**
 * Writes "started <cwd> <QWEN_CONFIG>" to events.log and, like the service, "qwen-chat listening on <url>"
 * (port FAKE_PORT, 8080 by default); on SIGTERM writes "SIGTERM" and exits (unless told to ignore it).
 */
const FAKE_SERVICE = `
const { appendFileSync } = require('node:fs');
const events = process.env.FAKE_EVENTS;
appendFileSync(events, 'started ' + process.cwd() + ' ' + (process.env.QWEN_CONFIG || '-') + '\\n');
console.log('qwen-chat listening on http://' + (process.env.FAKE_HOST || '127.0.0.1') + ':' + (process.env.FAKE_PORT || '8080') + '; not ready yet');
process.on('SIGTERM', () => {
  appendFileSync(events, 'SIGTERM\\n');
  if (!process.env.FAKE_IGNORE_SIGTERM) setTimeout(() => process.exit(0), 100);
});
setInterval(() => undefined, 1000);
`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `condition` every 20 ms until it holds, or fails naming `what` after `ms`. */
async function until(condition: () => boolean, what: string, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('scripts/start_qwen.sh and stop_qwen.sh', () => {
  let scratch: ScratchDir;
  let root: string;
  let events: string;
  let pidFile: string;
  const started: number[] = [];

  const run = (name: string, env: NodeJS.ProcessEnv = {}) => runScript(join(root, 'scripts', name), [], { FAKE_EVENTS: events, ...env });
  const eventLines = () => (existsSync(events) ? readFileSync(events, 'utf8').trim().split('\n') : []);
  const pid = () => Number(readFileSync(pidFile, 'utf8').trim());

  beforeEach(() => {
    scratch = new ScratchDir();
    root = join(scratch.path, 'project');
    copyProjectFiles(root, ['scripts/start_service.sh', 'scripts/start_qwen.sh', 'scripts/stop_qwen.sh', 'scripts/service-pid.sh']);
    scratch.file('project/dist/apps/qwen-chat/src/main.js', FAKE_SERVICE);
    scratch.file('project/config/local.yaml', '# local settings\n');
    events = join(scratch.path, 'events.log');
    pidFile = join(root, 'run/qwen-chat.pid');
  });
  afterEach(() => {
    for (const p of started.splice(0)) if (alive(p)) process.kill(p, 'SIGKILL');
    scratch.cleanup();
  });

  it('starts the service in the background from the project root with config/local.yaml, once', async () => {
    const start = run('start_qwen.sh');

    expect(start.status).toBe(0);
    expect(start.stdout).toMatch(/started \(pid \d+\); logs: logs\/service\.log/);
    started.push(pid());
    expect(alive(pid())).toBe(true);
    await until(() => eventLines().length > 0, 'the service to start');
    expect(eventLines()).toEqual([`started ${root} ${join(root, 'config/local.yaml')}`]);

    const again = run('start_qwen.sh');

    expect(again.status).toBe(0);
    expect(again.stdout).toContain(`already running (pid ${pid()})`);
    expect(eventLines()).toHaveLength(1);
  });

  it('prints the URL the service itself says it listens on (the port config/local.yaml set), not a fixed 8080', () => {
    const start = run('start_qwen.sh', { FAKE_PORT: '9123', FAKE_HOST: '0.0.0.0' });
    started.push(pid());

    expect(start.status).toBe(0);
    expect(start.stdout).toContain('listening on http://127.0.0.1:9123;');
    expect(start.stdout).toContain('check: curl http://127.0.0.1:9123/health/ready');
    expect(start.stdout).not.toContain('8080');
  });

  it('stops it gracefully with SIGTERM and removes the pid file; a second stop says it is not running', async () => {
    expect(run('start_qwen.sh').status).toBe(0);
    const servicePid = pid();
    started.push(servicePid);
    await until(() => eventLines().length > 0, 'the service to start');

    const stop = run('stop_qwen.sh');

    expect(stop.status).toBe(0);
    expect(stop.stdout).toMatch(/stopped/);
    expect(eventLines()).toEqual([expect.stringMatching(/^started /), 'SIGTERM']);
    expect(alive(servicePid)).toBe(false);
    expect(existsSync(pidFile)).toBe(false);
    expect(stop.stderr).not.toMatch(/killing/);

    const again = run('stop_qwen.sh');
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/not running/);
  });

  it('kills a service that ignores SIGTERM after QWEN_STOP_TIMEOUT', async () => {
    expect(run('start_qwen.sh', { FAKE_IGNORE_SIGTERM: '1' }).status).toBe(0);
    const servicePid = pid();
    started.push(servicePid);
    await until(() => eventLines().length > 0, 'the service to start');

    const stop = run('stop_qwen.sh', { QWEN_STOP_TIMEOUT: '1' });

    expect(stop.status).toBe(0);
    expect(stop.stderr).toMatch(/still running after 1s: killing it/);
    expect(eventLines()).toContain('SIGTERM');
    await until(() => !alive(servicePid), 'the killed service to be reaped');
    expect(existsSync(pidFile)).toBe(false);
  });

  it('treats a stale pid file (a pid that is not the service) as not running', () => {
    scratch.file('project/run/qwen-chat.pid', `${process.pid}\n`); // alive, but jest, not the service

    const stop = run('stop_qwen.sh');

    expect(stop.status).toBe(0);
    expect(stop.stdout).toMatch(/not running \(removing the stale/);
    expect(alive(process.pid)).toBe(true);
    expect(existsSync(pidFile)).toBe(false);
  });

  it('start_service.sh refuses to start without a build, saying what to do', () => {
    rmSync(join(root, 'dist'), { recursive: true });

    const result = run('start_service.sh');

    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/main\.js is missing: build first \(npm run build, or scripts\/setup\.sh\)/);
  });
});
