import { charByChar, randomPieces, seededRandom, splitAt } from '../../../test/fixtures/chunking';
import {
  DEVICE_DEAD_LINE,
  ESC,
  STEP_TEXTS,
  UPSTREAM_POST_CONFIG,
  deviceDeadBurst,
  footer,
  logRecord,
  progressUpdate,
  startupStream,
  turnStream,
  withOnlcr,
} from '../../../test/fixtures/runner-output';
import { FramerEvent, ReplFramer } from './repl-framer';

const HANDLE = 'qh-3q2xZk9LmQ0';

/** A framer that went through start-up and waits at `>> `. */
function readyFramer(): ReplFramer {
  const framer = new ReplFramer();
  framer.push(startupStream());
  expect(framer.state).toBe('ready');
  return framer;
}

/** Feeds pieces; merges adjacent text events so different cuts compare equal. */
function feed(framer: ReplFramer, pieces: string[]): FramerEvent[] {
  const events: FramerEvent[] = [];
  for (const piece of pieces) {
    for (const event of framer.push(piece)) {
      const last = events[events.length - 1];
      if (event.type === 'text' && last?.type === 'text') last.text += event.text;
      else events.push({ ...event });
    }
  }
  return events;
}

function textOf(events: FramerEvent[]): string {
  return events.map((e) => (e.type === 'text' ? e.text : '')).join('');
}

function types(events: FramerEvent[]): string[] {
  return events.map((e) => e.type);
}

/**
 * Every way of cutting `stream` that the tests use: whole, char by char, 2 pieces at every
 * `every`-th position, and random pieces with a fixed seed.
 */
function* cuttings(stream: string, randomRuns = 40, every = 1, seed = 20250401): Generator<{ name: string; pieces: string[] }> {
  yield { name: 'whole', pieces: [stream] };
  yield { name: 'char by char', pieces: charByChar(stream) };
  for (let at = 1; at < stream.length; at += every) yield { name: `split at ${at}`, pieces: splitAt(stream, at) };
  const random = seededRandom(seed);
  for (let run = 0; run < randomRuns; run++) {
    yield { name: `random ${run}`, pieces: randomPieces(stream, random, 1 + run) };
  }
}

/** Runs a turn (after start-up) with the given output, cut as given. */
function runTurn(output: string, pieces: (s: string) => string[] = (s) => [s], typed = HANDLE): FramerEvent[] {
  const framer = readyFramer();
  framer.beginTurn(typed);
  expect(framer.state).toBe('turn');
  const events = feed(framer, pieces(output));
  expect(framer.state).toBe('ready');
  return events;
}

describe(ReplFramer.name, () => {
  describe('start-up', () => {
    it('reports the banner, the 31 progress redraws, max_token_len, the sampling config, init ok and ready', () => {
      const framer = new ReplFramer();
      expect(framer.state).toBe('loading');
      const events = framer.push(startupStream());
      expect(framer.state).toBe('ready');

      const progress = events.filter((e) => e.type === 'progress');
      expect(progress).toHaveLength(31);
      progress.forEach((e, i) => {
        expect(e).toEqual({ type: 'progress', step: i + 1, total: 31, text: STEP_TEXTS[i].trim() });
      });
      expect(progress[2]).toEqual({ type: 'progress', step: 3, total: 31, text: 'init 0 axmodel ok,remain_cmm(-1 MB)' });
      expect(progress[30]).toEqual({ type: 'progress', step: 31, total: 31, text: 'init post axmodel ok' });

      const withoutProgress = events.filter((e) => e.type !== 'progress');
      expect(withoutProgress).toEqual([
        { type: 'line', text: 'build time: Feb 13 2025 15:44:57' },
        { type: 'log', level: 'I', fn: 'Init', line: 111, text: 'LLM init start' },
        { type: 'line', text: 'bos_id: -1, eos_id: 151645' },
        { type: 'log', level: 'I', fn: 'Init', line: 226, text: 'max_token_len : 1024' },
        { type: 'max-token-len', value: 1024 },
        { type: 'log', level: 'I', fn: 'Init', line: 231, text: 'kv_cache_size : 256, kv_cache_num: 1024' },
        expect.objectContaining({ type: 'log', level: 'I', fn: 'load_config', line: 282 }),
        { type: 'post-config', config: UPSTREAM_POST_CONFIG },
        { type: 'log', level: 'I', fn: 'Init', line: 288, text: 'LLM init ok' },
        { type: 'init-ok' },
        { type: 'line', text: 'Type "q" to exit, Ctrl+c to stop current running' },
        { type: 'ready' },
      ]);
      const configLog = withoutProgress[6] as Extract<FramerEvent, { type: 'log' }>;
      expect(configLog.text.startsWith('load config: \n{\n    "enable_repetition_penalty": false,')).toBe(true);
    });

    it('gives the same events however the start-up bytes are cut', () => {
      const stream = startupStream();
      const expected = new ReplFramer().push(stream);
      for (const { name, pieces } of cuttings(stream, 60)) {
        const framer = new ReplFramer();
        const events = feed(framer, pieces);
        if (JSON.stringify(events) !== JSON.stringify(expected)) {
          throw new Error(`cut "${name}" gave different events`);
        }
        expect(framer.state).toBe('ready');
      }
    });

    it('reports a missing post_config.json (greedy decoding) instead of a config', () => {
      const stream = startupStream({ postConfig: null });
      const expected = new ReplFramer().push(stream);
      expect(expected.filter((e) => e.type === 'post-config')).toHaveLength(0);
      expect(expected).toContainEqual({
        type: 'post-config-missing',
        text: 'load postprocess config(post_config.json) failed',
      });
      expect(expected).toContainEqual({ type: 'log', level: 'E', fn: 'load_config', line: 278, text: 'config file(post_config.json) open failed' });
      expect(expected[expected.length - 1]).toEqual({ type: 'ready' });
      for (const { name, pieces } of cuttings(stream, 10)) {
        const events = feed(new ReplFramer(), pieces);
        if (JSON.stringify(events) !== JSON.stringify(expected)) throw new Error(`cut "${name}" gave different events`);
      }
    });

    it('reads another max_token_len and any sampling settings', () => {
      const config = { temperature: 0.7, top_k: 5, enable_temperature: true };
      const events = new ReplFramer().push(startupStream({ postConfig: config, maxTokenLen: 2047 }));
      expect(events).toContainEqual({ type: 'max-token-len', value: 2047 });
      expect(events).toContainEqual({ type: 'post-config', config });
    });

    it('reports a progress redraw as soon as its reset code arrives (the next one may be seconds away)', () => {
      const framer = new ReplFramer();
      framer.push('build time: Feb 13 2025 15:44:57\n');
      expect(framer.push(progressUpdate(1))).toEqual([{ type: 'progress', step: 1, total: 31, text: 'tokenizer init ok' }]);
      expect(framer.push(progressUpdate(2))).toEqual([{ type: 'progress', step: 2, total: 31, text: 'embed_selector init ok' }]);
    });

    it('is tolerant about bar glyphs and spacing, and about a \\n after the last reset code', () => {
      const framer = new ReplFramer();
      const docForm = `${ESC}[1;30;33m\r 3% | ███ | 1 /  31 [0.00s<0.06s, 500.00 count/s] ${ESC}[1;30;32mtokenizer init ok${ESC}[0m`;
      const ascii = `${ESC}[1;30;33m\r100%|##########|31/31[9s<9s,3.4 count/s]${ESC}[1;30;32minit post axmodel ok${ESC}[0m\n`;
      expect(feed(framer, charByChar(docForm + ascii + logRecord('I', 'Init', 226, 'max_token_len : 1024')))).toEqual([
        { type: 'progress', step: 1, total: 31, text: 'tokenizer init ok' },
        { type: 'progress', step: 31, total: 31, text: 'init post axmodel ok' },
        { type: 'log', level: 'I', fn: 'Init', line: 226, text: 'max_token_len : 1024' },
        { type: 'max-token-len', value: 1024 },
      ]);
    });

    it('is strict about the markers: a redraw without its step-text colour is only a line', () => {
      const events = new ReplFramer().push(`${ESC}[1;30;33m\r 3% | 1 / 31 tokenizer init ok${ESC}[0m\n`);
      expect(events).toEqual([{ type: 'line', text: ' 3% | 1 / 31 tokenizer init ok' }]);
    });

    it('reports ready as soon as ">> " is printed, with nothing after it', () => {
      const stream = startupStream();
      const framer = new ReplFramer();
      expect(types(framer.push(stream.slice(0, -2)))).not.toContain('ready');
      expect(framer.push('>')).toEqual([]);
      expect(framer.push(' ')).toEqual([{ type: 'ready' }]);
    });

    it('does not take ">> " for the prompt before the runner finished its init', () => {
      const framer = new ReplFramer();
      const events = framer.push('build time: Feb 13 2025 15:44:57\n>> not yet\n');
      expect(events).toEqual([
        { type: 'line', text: 'build time: Feb 13 2025 15:44:57' },
        { type: 'line', text: '>> not yet' },
      ]);
      expect(framer.state).toBe('loading');
    });

    it('reports an init failure line and the log records of a failed start', () => {
      const framer = new ReplFramer();
      const events = framer.push(
        'build time: Feb 13 2025 15:44:57\n' + logRecord('E', 'Init', 150, 'init axmodel(qwen2_p128_l0_together.axmodel) failed'),
      );
      expect(events[1]).toEqual({ type: 'log', level: 'E', fn: 'Init', line: 150, text: 'init axmodel(qwen2_p128_l0_together.axmodel) failed' });
      expect(framer.state).toBe('loading');
    });

    it('tolerates a terminal that maps \\n to \\r\\n', () => {
      const plain = new ReplFramer().push(startupStream());
      const stream = withOnlcr(startupStream());
      expect(new ReplFramer().push(stream)).toEqual(plain);
      expect(feed(new ReplFramer(), charByChar(stream))).toEqual(plain);
    });
  });

  describe('a turn', () => {
    it('streams the text, reports the footer and the next prompt', () => {
      const framer = readyFramer();
      framer.beginTurn(HANDLE);
      expect(framer.state).toBe('turn');
      const events = framer.push(turnStream('I am Qwen, a helpful assistant.'));
      expect(events).toEqual([
        { type: 'text', text: 'I am Qwen, a helpful assistant.' },
        { type: 'log', level: 'N', fn: 'Run', line: 610, text: 'hit eos,avg 13.28 token/s' },
        { type: 'footer', tokensPerSecond: 13.28 },
        { type: 'ready' },
      ]);
      expect(framer.state).toBe('ready');
    });

    it('is in after-footer between the footer and the prompt', () => {
      const framer = readyFramer();
      framer.beginTurn(HANDLE);
      const stream = turnStream('Hi');
      expect(types(framer.push(stream.slice(0, -3)))).toEqual(['text', 'log', 'footer']);
      expect(framer.state).toBe('after-footer');
      expect(framer.push(stream.slice(-3))).toEqual([{ type: 'ready' }]);
    });

    it('emits text as soon as it is unambiguous and holds back only a possible footer start', () => {
      const framer = readyFramer();
      framer.beginTurn(HANDLE);
      expect(framer.push('Hel')).toEqual([{ type: 'text', text: 'Hel' }]);
      expect(framer.push('lo\n')).toEqual([{ type: 'text', text: 'lo' }]);
      expect(framer.push('\n')).toEqual([]);
      expect(framer.push('\n')).toEqual([{ type: 'text', text: '\n' }]);
      expect(framer.push('x')).toEqual([{ type: 'text', text: '\n\nx' }]);
      expect(framer.push('\r')).toEqual([]);
      expect(framer.push('y')).toEqual([{ type: 'text', text: '\ry' }]);
      expect(framer.push(`${ESC}[1;30;35m[N][`)).toEqual([]);
      expect(types(framer.push(`${' '.repeat(29)}Run][ 610]: hit eos,avg 2.50 token/s\n\x1b[0m\n>> `))).toEqual([
        'log',
        'footer',
        'ready',
      ]);
    });

    it('keeps one character of a surrogate pair until its other half arrives', () => {
      const framer = readyFramer();
      framer.beginTurn(HANDLE);
      const emoji = '😀';
      expect(framer.push(`a${emoji[0]}`)).toEqual([{ type: 'text', text: 'a' }]);
      expect(framer.push(emoji[1])).toEqual([{ type: 'text', text: emoji }]);
    });

    it('releases a held half of a surrogate pair as text when a footer follows it directly', () => {
      const stream = `broken \uD83D${logRecord('N', 'Run', 610, 'hit eos,avg 1.00 token/s\n')}>> `;
      for (const { pieces } of cuttings(stream, 5)) {
        expect(textOf(runTurn('', () => pieces))).toBe('broken \uD83D');
      }
    });

    it('reads the footer figure, or null when it is not a number', () => {
      expect(runTurn(turnStream('x', '0.99'))).toContainEqual({ type: 'footer', tokensPerSecond: 0.99 });
      expect(runTurn(turnStream('x', 'nan'))).toContainEqual({ type: 'footer', tokensPerSecond: null });
    });

    it('handles an empty answer (the footer comes right away)', () => {
      expect(runTurn(turnStream(''))).toEqual([
        { type: 'log', level: 'N', fn: 'Run', line: 610, text: 'hit eos,avg 13.28 token/s' },
        { type: 'footer', tokensPerSecond: 13.28 },
        { type: 'ready' },
      ]);
    });

    it('runs many turns one after the other', () => {
      const framer = readyFramer();
      for (let n = 0; n < 5; n++) {
        framer.beginTurn(`${HANDLE}${n}`);
        const events = feed(framer, charByChar(turnStream(`answer ${n}\n`)));
        expect(textOf(events)).toBe(`answer ${n}\n`);
        expect(types(events).slice(-3)).toEqual(['log', 'footer', 'ready']);
        expect(framer.state).toBe('ready');
      }
    });

    const hostile: Array<[string, string]> = [
      ['a fake prompt', '>> '],
      ['fake prompts inside text', 'look:\n>> q\n>> \n>> '],
      ['hit eos', 'hit eos'],
      ['a footer-like line without ESC', '\n\n[N][                             Run][ 610]: hit eos,avg 13.28 token/s\n\n>> '],
      ['a log-like line', '[I][                            Init][ 288]: LLM init ok\nType "q" to exit, Ctrl+c to stop current running\n>> '],
      ['a progress-like line', '\r 3% | ███ | 1 /  31 [0.00s<0.06s, 500.00 count/s] tokenizer init ok'],
      ['blank lines inside', 'one\n\ntwo\n\n\nthree'],
      ['text ending in \\n', 'the end\n'],
      ['text ending in \\n\\n', 'the end\n\n'],
      ['text ending in \\n\\n\\n', 'the end\n\n\n'],
      ['only newlines', '\n\n\n\n'],
      ['a single newline', '\n'],
      ['Chinese and emoji', '你好！我是通义千问。😀👍🏽 ✅\n第二行'],
      ['a bare \\r', 'progress\rover'],
      ['a lone half of a surrogate pair at the end', 'broken \uD83D'],
      ['text starting like the typed line', `${HANDLE.slice(0, 6)}… is not the handle`],
      ['the typed line itself, not at the start', `x${HANDLE}\n`],
      ['a long line', 'word '.repeat(3000)],
      ['a device-manager look-alike without a timestamp', '[W][device manager]: device 1 is dead\n'],
    ];

    it.each(hostile)('keeps %s as text, exactly, however the bytes are cut', (_name, text) => {
      const stream = turnStream(text);
      for (const { name, pieces } of cuttings(stream, 20, text.length > 2000 ? 97 : 1)) {
        const events = runTurn(stream, () => pieces);
        if (textOf(events) !== text) throw new Error(`cut "${name}": got ${JSON.stringify(textOf(events))}`);
        expect(types(events).filter((t) => t !== 'text')).toEqual(['log', 'footer', 'ready']);
      }
    });

    it('normalises \\r\\n to \\n when the terminal still maps output', () => {
      const text = 'line one\nline two\n\nend\n';
      for (const { pieces } of cuttings(withOnlcr(turnStream(text)), 10)) {
        const events = runTurn('', () => pieces);
        expect(textOf(events)).toBe(text);
        expect(types(events).filter((t) => t !== 'text')).toEqual(['log', 'footer', 'ready']);
      }
    });

    it('drops the echo of the typed line at the start of a turn', () => {
      const text = 'answer';
      for (const echo of [`${HANDLE}\n`, `${HANDLE}\r\n`]) {
        for (const { pieces } of cuttings(`${echo}${turnStream(text)}`, 10)) {
          const events = runTurn('', () => pieces);
          expect(textOf(events)).toBe(text);
        }
      }
    });

    it('drops the echo with a mapped terminal too, and accepts a typed line given with its \\n', () => {
      const events = runTurn(withOnlcr(`${HANDLE}\n${turnStream('a\nb')}`), (s) => charByChar(s), `${HANDLE}\n`);
      expect(textOf(events)).toBe('a\nb');
    });

    it('releases a partial echo as text when the output turns out to be something else', () => {
      const text = `${HANDLE.slice(0, 5)}X and more`;
      for (const { pieces } of cuttings(turnStream(text), 5)) {
        expect(textOf(runTurn('', () => pieces))).toBe(text);
      }
    });

    it('reports a log record in the middle of a turn without touching the text', () => {
      const record = logRecord('I', 'Run', 388, 'ttft: 134.63 ms');
      const stream = `before\n${record}after${footer()}>> `;
      for (const { pieces } of cuttings(stream, 10)) {
        const events = runTurn('', () => pieces);
        expect(textOf(events)).toBe('before\nafter');
        expect(events).toContainEqual({ type: 'log', level: 'I', fn: 'Run', line: 388, text: 'ttft: 134.63 ms' });
      }
    });

    it('drops escape sequences that are not records (model text never carries ESC)', () => {
      const stream = `red ${ESC}[31mtext${ESC}[0m here${ESC}[K!${footer()}>> `;
      for (const { pieces } of cuttings(stream, 10)) {
        expect(textOf(runTurn('', () => pieces))).toBe('red text here!');
      }
    });
  });

  describe('a dying device', () => {
    it('suspects a dead device during a turn and still passes the lines on as text', () => {
      const burst = deviceDeadBurst(3);
      const text = `partial answer\n${burst}`;
      for (const { name, pieces } of cuttings(text, 10)) {
        const framer = readyFramer();
        framer.beginTurn(HANDLE);
        const events = feed(framer, pieces);
        // The last \n is held back: it could start the runner's `\n\n` before a footer.
        if (textOf(events) !== text.slice(0, -1)) throw new Error(`cut "${name}": got ${JSON.stringify(textOf(events))}`);
        expect(events.filter((e) => e.type === 'device-dead-suspected')).toEqual([
          { type: 'device-dead-suspected', line: DEVICE_DEAD_LINE },
        ]);
        expect(framer.state).toBe('turn');
      }
    });

    it('suspects a dead device when the line comes right after text on the same line', () => {
      const framer = readyFramer();
      framer.beginTurn(HANDLE);
      const events = framer.push(`half a sente${DEVICE_DEAD_LINE}\n`);
      expect(events).toContainEqual({ type: 'device-dead-suspected', line: DEVICE_DEAD_LINE });
    });

    it('reports a dead device outside a turn as a line and a suspicion', () => {
      const framer = readyFramer();
      const events = feed(framer, charByChar(deviceDeadBurst(2)));
      expect(events[0]).toEqual({ type: 'line', text: DEVICE_DEAD_LINE });
      expect(events[1]).toEqual({ type: 'device-dead-suspected', line: DEVICE_DEAD_LINE });
      expect(events.slice(2).map((e) => e.type)).toEqual(['line', 'line']);
    });

    it('reports a dead device while loading', () => {
      const framer = new ReplFramer();
      const events = framer.push(`build time: Feb 13 2025 15:44:57\n${deviceDeadBurst(1)}`);
      expect(events).toContainEqual({ type: 'device-dead-suspected', line: DEVICE_DEAD_LINE });
    });

    it('does not suspect text that only mentions a dead device', () => {
      const framer = readyFramer();
      framer.beginTurn(HANDLE);
      const events = framer.push('device 1 is dead\n[2025-11-09][1][W][device manager]: device 1 is dead\n');
      expect(events.filter((e) => e.type === 'device-dead-suspected')).toEqual([]);
    });
  });

  describe('lifecycle', () => {
    it('reset() forgets a half-read record and starts over as loading', () => {
      const framer = readyFramer();
      framer.beginTurn(HANDLE);
      framer.push(`abc${ESC}[1;30;35m[N][    `);
      framer.reset();
      expect(framer.state).toBe('loading');
      const events = framer.push(startupStream());
      expect(types(events).filter((t) => t !== 'progress')).toEqual(types(new ReplFramer().push(startupStream())).filter((t) => t !== 'progress'));
      expect(framer.state).toBe('ready');
    });

    it('reports ready again when the runner prints another prompt (an empty line was read)', () => {
      const framer = readyFramer();
      expect(framer.push('>> >> ')).toEqual([{ type: 'ready' }, { type: 'ready' }]);
    });

    it('reports a line that was half printed when a turn began', () => {
      const framer = readyFramer();
      framer.push('stray');
      framer.beginTurn(HANDLE);
      expect(framer.push('hi')).toEqual([
        { type: 'line', text: 'stray' },
        { type: 'text', text: 'hi' },
      ]);
    });

    it('gives up on a record that never ends instead of buffering forever', () => {
      const framer = readyFramer();
      const events = feed(framer, [`${ESC}[1;30;32m[I][x][1]: `, 'y'.repeat(70000), '\n>> ']);
      expect(events.some((e) => e.type === 'line')).toBe(true);
      expect(events[events.length - 1]).toEqual({ type: 'ready' });
    });

    it('stays linear: a large turn fed one character at a time', () => {
      const text = '长'.repeat(50000) + '\n'.repeat(3) + 'x'.repeat(50000);
      const framer = readyFramer();
      framer.beginTurn(HANDLE);
      const events = feed(framer, charByChar(turnStream(text)));
      expect(textOf(events)).toBe(text);
    });
  });
});
