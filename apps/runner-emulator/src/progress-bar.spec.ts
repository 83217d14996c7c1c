import { LogFormatter, printfFixed2 } from './log-formatter';
import { ProgressBar } from './progress-bar';

describe(ProgressBar.name, () => {
  it('draws the cqdm line of the real runner (bar, counts, times, step text)', () => {
    const bar = new ProgressBar(31, 32, 1000);
    expect(bar.update(0, 'tokenizer init ok', 1002)).toBe(
      '\x1b[1;30;33m\r  3% | ██' + ' '.repeat(31) + ' |   1 /  31 [0.00s<0.06s, 500.00 count/s] \x1b[1;30;32mtokenizer init ok\x1b[0m',
    );
    expect(bar.update(30, 'init post axmodel ok\n', 1002)).toBe(
      '\x1b[1;30;33m\r100% | ' + '█'.repeat(32) + ' |  31 /  31 [0.00s<0.03s, 1000.00 count/s] \x1b[1;30;32minit post axmodel ok\n\x1b[0m',
    );
  });

  it('prints inf like printf when no time has passed', () => {
    expect(new ProgressBar(31, 32, 5).update(0, 'x', 5)).toContain('[0.00s<0.00s, inf count/s]');
    expect(printfFixed2(Number.NaN)).toBe('-nan');
  });
});

describe(LogFormatter.name, () => {
  it('formats a record with colour, right-aligned function name and line number', () => {
    expect(new LogFormatter().format('N', 'Run', 610, 'hit eos,avg 13.28 token/s\n')).toBe(
      `\x1b[1;30;35m[N][${' '.repeat(29)}Run][ 610]: hit eos,avg 13.28 token/s\n\x1b[0m\n`,
    );
    expect(new LogFormatter().format('E', 'load_config', 78, 'x')).toBe(`\x1b[1;30;31m[E][${' '.repeat(21)}load_config][  78]: x\x1b[0m\n`);
  });
});
