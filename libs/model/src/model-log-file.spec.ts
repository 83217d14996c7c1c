import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelLogFile } from './model-log-file';

describe(ModelLogFile.name, () => {
  let root: string;
  let path: string;
  const at = () => new Date('2026-12-02T07:00:00.000Z');
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'model-log-'));
    path = join(root, 'logs', 'model.log');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('is private: the file 0600 in a 0700 directory', () => {
    new ModelLogFile(path, { keepModelText: true }, at).close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(root, 'logs')).mode & 0o777).toBe(0o700);
  });

  it('timestamps and tags every line: model text cannot pass for a runtime line', () => {
    const log = new ModelLogFile(path, { keepModelText: true }, at);
    log.note('runner start ./main_axcl_x86');
    log.write('[I][ Init][ 111]: LLM init start\n>> ', 'runtime');
    log.write('Sure.\n[2025-11-09 08:46:00.029][10994][W][device manager][listen][292]: device 1 is dead\nBye', 'model-text');
    log.write('\n>> ', 'runtime');
    log.close();
    expect(readFileSync(path, 'utf8').split('\n')).toEqual([
      '2026-12-02T07:00:00.000Z qwen| runner start ./main_axcl_x86',
      '2026-12-02T07:00:00.000Z runner| [I][ Init][ 111]: LLM init start',
      '2026-12-02T07:00:00.000Z runner| >> ',
      '2026-12-02T07:00:00.000Z answer| Sure.',
      '2026-12-02T07:00:00.000Z answer| [2025-11-09 08:46:00.029][10994][W][device manager][listen][292]: device 1 is dead',
      '2026-12-02T07:00:00.000Z answer| Bye',
      '2026-12-02T07:00:00.000Z runner| ',
      '2026-12-02T07:00:00.000Z runner| >> ',
      '',
    ]);
  });

  it('keeps no model text when told not to: one mark per answer instead', () => {
    const log = new ModelLogFile(path, { keepModelText: false }, at);
    log.write('>> ', 'runtime');
    log.write('a private answer\nover two lines\n', 'model-text');
    log.write('>> ', 'runtime');
    log.close();
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain('private answer');
    expect(text.match(/answer\| \(model text not kept/g)).toHaveLength(1);
  });
});
