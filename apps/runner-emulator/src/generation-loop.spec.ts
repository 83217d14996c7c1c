import type { Clock } from './clock';
import { NO_FAULTS, type CtrlCStep } from './emulator-settings';
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

function setup(promptIds: number[], maxTokenLen = 1024, ctrlCStep: CtrlCStep = 'finish') {
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
  const loop = new GenerationLoop(tokenizer, out, new LogFormatter(), clock, control, { promptTokenMs: 70, tokenMs: 50, maxTokenLen, eosId: EOS, livePrint: true, ctrlCStep }, 42);
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

  it('stops after max_token_len forward passes (max_token_len − P + 1 tokens) without printing the leftover', async () => {
    const { loop, decodes, text, clock } = setup(user(1, 2), 17); // 10 prompt ids: 17 − 10 + 1 = 8 generated, 2 of them dropped
    await expect(loop.run('x', new StopFlag(), { faults: NO_FAULTS, repeat: 10 })).resolves.toBe('length');
    expect(decodes).toEqual([[1, 2, 1], [2, 1, 2], [1, 2, 1, 2, 1, 2, 1, 2]]);
    expect(text().startsWith('<1><2><1><2><1><2>\n\n')).toBe(true);
    expect(clock.sleeps).toHaveLength(17); // exactly max_token_len passes
  });

  it('a prompt of max_token_len tokens still samples the one token its last pass yields', async () => {
    const prompt = user(...Array.from({ length: 14 }, (_, i) => i + 1)); // 19 ids
    const { loop, decodes } = setup(prompt, prompt.length);
    await expect(loop.run('x', new StopFlag(), { faults: NO_FAULTS, repeat: 1 })).resolves.toBe('length');
    expect(decodes).toEqual([[1]]);
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

  it('with ctrlCStep "abandon", a Ctrl-C during a pass cuts it short: no token from that pass', async () => {
    const { loop, clock, decodes } = setup(user(1, 2), 1024, 'abandon');
    const stop = new StopFlag();
    clock.onSleep = () => {
      if (clock.sleeps.length === 13) stop.request(); // while the 4th generated token is computed
    };
    await expect(loop.run('x', stop, { faults: NO_FAULTS, repeat: 10 })).resolves.toBe('stopped');
    expect(decodes).toEqual([[1, 2, 1], [1, 2, 1]]);
  });

  it('with ctrlCStep "finish", a Ctrl-C during the last prompt pass still samples the first token', async () => {
    const { loop, clock, decodes } = setup(user(1, 2), 1024, 'finish');
    const stop = new StopFlag();
    clock.onSleep = () => {
      if (clock.sleeps.length === 10) stop.request(); // the 10th and last prompt pass
    };
    await expect(loop.run('x', stop, { faults: NO_FAULTS, repeat: 10 })).resolves.toBe('stopped');
    expect(decodes).toEqual([[1]]);
    expect(clock.sleeps).toHaveLength(10);
  });

  it('injects crash / hang / device-dead faults after N generated tokens', async () => {
    const crash = setup(user(1, 2, 3, 4, 5));
    await expect(crash.loop.run('x', new StopFlag(), { faults: { ...NO_FAULTS, crashAfterTokens: 3 }, repeat: 1 })).rejects.toThrow('crash');
    expect(crash.text()).toBe('<1><2><3>');

    const dead = setup(user(1, 2, 3, 4, 5));
    await expect(dead.loop.run('x', new StopFlag(), { faults: { ...NO_FAULTS, deviceDeadAfterTokens: 0 }, repeat: 1 })).rejects.toThrow('hang');
    expect(dead.text()).toMatch(/^\[[\d\- :.]+\]\[42\]\[W\]\[device manager\]\[listen\]\[292\]: device 1 is dead\n/);
    expect(dead.text().split('][42][C][device][print][').length - 1).toBe(227);
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
