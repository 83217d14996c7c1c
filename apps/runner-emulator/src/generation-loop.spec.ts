import type { Clock } from './clock';
import { NO_FAULTS } from './emulator-settings';
import { GenerationLoop, StopFlag } from './generation-loop';
import { LogFormatter } from './log-formatter';
import type { ProcessControl } from './process-control';
import { StdioStream } from './stdio-stream';
import type { TokenizerPort } from './tokenizer-http-client';

const EOS = 151645;

class ManualClock implements Clock {
  now = 0;
  sleeps: number[] = [];
  onSleep: (() => void) | null = null;
  nowMs(): number {
    return this.now;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.now += ms;
    this.onSleep?.();
  }
}

class Died extends Error {}

function setup(promptIds: number[], maxTokenLen = 1024) {
  const written: string[] = [];
  const out = new StdioStream({ write: (chunk, done) => (written.push(chunk), done()) }, true);
  const decodes: number[][] = [];
  const tokenizer: TokenizerPort = {
    encode: async () => promptIds,
    decode: async (ids) => (decodes.push([...ids]), ids.map((i) => `<${i}>`).join('')),
  };
  const control: ProcessControl = {
    crash: async () => {
      throw new Died('crash');
    },
    hang: async () => {
      throw new Died('hang');
    },
    exit: async () => {
      throw new Died('exit');
    },
  };
  const clock = new ManualClock();
  const loop = new GenerationLoop(tokenizer, out, new LogFormatter(), clock, control, { promptTokenMs: 70, tokenMs: 50, maxTokenLen, eosId: EOS, livePrint: true }, 42);
  return { loop, clock, decodes, text: () => written.join(''), out };
}

describe(GenerationLoop.name, () => {
  const user = (...ids: number[]) => [151644, 872, 198, ...ids, EOS, 198, 151644, 77091, 198];

  it('prints every 3 tokens, the leftover on eos, the footer with prompt tokens counted, then the final decode', async () => {
    const { loop, clock, decodes, text } = setup(user(1, 2, 3, 4));
    await expect(loop.run('x', new StopFlag(), { faults: NO_FAULTS, repeat: 1 })).resolves.toBe('eos');
    expect(decodes).toEqual([[1, 2, 3], [4], [1, 2, 3, 4]]);
    // 12 prompt steps at 70 ms (the last yields token 1), tokens 2..4 and the eos at 50 ms: 16 tokens in 1.04 s
    expect(clock.sleeps).toEqual([...Array(12).fill(70), 50, 50, 50, 50]);
    expect(text()).toBe(`<1><2><3><4>\n\n\x1b[1;30;35m[N][${' '.repeat(29)}Run][ 610]: hit eos,avg 15.38 token/s\n\x1b[0m\n`);
  });

  it('stops at max_token_len without printing the leftover', async () => {
    const { loop, decodes, text } = setup(user(1, 2), 15); // 10 prompt ids: 5 generated, 2 of them dropped
    await expect(loop.run('x', new StopFlag(), { faults: NO_FAULTS, repeat: 10 })).resolves.toBe('length');
    expect(decodes).toEqual([[1, 2, 1], [1, 2, 1, 2, 1]]);
    expect(text().startsWith('<1><2><1>\n\n')).toBe(true);
  });

  it('stops on the SIGINT flag without printing the leftover, and clears a flag set before the turn', async () => {
    const { loop, clock, decodes } = setup(user(1, 2));
    const stop = new StopFlag();
    stop.request(); // Ctrl-C at the prompt: ignored
    clock.onSleep = () => {
      if (clock.sleeps.length === 13) stop.request(); // while the 4th generated token is computed
    };
    await expect(loop.run('x', stop, { faults: NO_FAULTS, repeat: 10 })).resolves.toBe('stopped');
    expect(decodes).toEqual([[1, 2, 1], [1, 2, 1, 2]]);
  });

  it('injects crash / hang / device-dead faults after N generated tokens', async () => {
    const crash = setup(user(1, 2, 3, 4, 5));
    await expect(crash.loop.run('x', new StopFlag(), { faults: { ...NO_FAULTS, crashAfterTokens: 3 }, repeat: 1 })).rejects.toThrow('crash');
    expect(crash.text()).toBe('<1><2><3>');

    const dead = setup(user(1, 2, 3, 4, 5));
    await expect(dead.loop.run('x', new StopFlag(), { faults: { ...NO_FAULTS, deviceDeadAfterTokens: 0 }, repeat: 1 })).rejects.toThrow('hang');
    expect(dead.text()).toMatch(/^\[[\d\- :.]+\]\[42\]\[W\]\[device manager\]\[listen\]\[292\]: device 1 is dead\n/);
    expect(dead.text().split('[C][device][print]').length - 1).toBe(300);
  });

  it('crashes when /encode gives no ids', async () => {
    const { loop } = setup([]);
    await expect(loop.run('x', new StopFlag(), { faults: NO_FAULTS, repeat: 1 })).rejects.toThrow('crash');
  });
});

describe(StdioStream.name, () => {
  it('is line-buffered on a terminal and block-buffered on a pipe', () => {
    const chunks: string[] = [];
    const tty = new StdioStream({ write: (c, done) => (chunks.push(c), done()) }, true);
    tty.printf('a\nb');
    expect(chunks).toEqual(['a\n']);
    tty.fflush();
    expect(chunks).toEqual(['a\n', 'b']);

    const piped: string[] = [];
    const pipe = new StdioStream({ write: (c, done) => (piped.push(c), done()) }, false, 8);
    pipe.printf('line\n');
    expect(piped).toEqual([]);
    pipe.printf('more\n');
    expect(piped).toEqual(['line\nmore\n']);
  });
});
