import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_NODE_FLAGS } from '../test/bench/service-process';

const root = join(__dirname, '..');

/** The NODE_FLAGS=(…) array of scripts/start_service.sh: how systemd and start_qwen.sh start the service. */
function startServiceFlags(): string[] {
  const script = readFileSync(join(root, 'scripts', 'start_service.sh'), 'utf8');
  const match = /^readonly NODE_FLAGS=\(([^)]*)\)$/m.exec(script);
  if (!match) throw new Error('scripts/start_service.sh has no NODE_FLAGS=(…) line');
  return match[1].trim().split(/\s+/);
}

describe('the service\'s V8 flags', () => {
  const flags = startServiceFlags();
  const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts as Record<string, string>;

  it('are the same wherever the service is started: start_service.sh, npm start, the demo and the benchmark', () => {
    expect(flags.length).toBeGreaterThan(0);
    expect(scripts.start).toBe('bash scripts/start_service.sh');
    expect(scripts.demo).toContain(`node ${flags.join(' ')} dist/scripts/demo.js`);
    expect(SERVICE_NODE_FLAGS).toEqual(flags);
  });

  it('are accepted by this node (start_service.sh falls back to none, with a warning, where they are not)', () => {
    const run = spawnSync(process.execPath, [...flags, '-e', 'process.stdout.write("ok")'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('ok');
  });
});
