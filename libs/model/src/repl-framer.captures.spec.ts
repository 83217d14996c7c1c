/**
 * Ground truth for the framer: the real bytes of two runner sessions on a Raspberry Pi 5 with the
 * LLM-8850 (test/fixtures/captures/, see its README), fed whole, byte by byte and in seeded random
 * pieces, through every terminal the service could face: with or without the echo of the typed
 * line, with or without the `\n` → `\r\n` mapping. The expected values below were read off the
 * captures by hand, not produced by the framer.
 */
import {
  BYTE_BY_BYTE,
  CaptureName,
  Cutting,
  WHOLE,
  decodePieces,
  mapNewlines,
  randomCutting,
  readCapture,
  segmentsAtPrompts,
} from '../../../test/fixtures/captures/capture-replay';
import { UPSTREAM_POST_CONFIG } from '../../../test/fixtures/runner-output';
import { FramerEvent, FramerState, ReplFramer } from './repl-framer';

const ESC = '\x1b';

const LOAD_STEPS = ['tokenizer init ok', 'embed_selector init ok', ...Array.from({ length: 28 }, (_, i) => `init ${i} axmodel ok,remain_cmm(-1 MB)`), 'init post axmodel ok'];

const SAMPLING = UPSTREAM_POST_CONFIG;

interface Expected {
  answers: string[];
  tokensPerSecond: number[];
  deviceDead: string[];
  /** Non-empty output lines outside turns after the load (the runtime's lines when the device dies). */
  idleLines: number;
}

const EXPECTED: Record<CaptureName, Expected> = {
  'pi5-session-multiline.bin': {
    answers: [
      "I am sorry, but I can't assist with the request you made.",
      'The answer to "2+2" is 4.',
      'Hello! Thank you for using my service, Qwen. How can I assist you today?',
      'Hi there! How may I assist you today?',
      '2 + 2 is equal to 4.',
      'Hello, could you please specify your question or task? How can I assist you today?',
    ],
    tokensPerSecond: [12.65, 13.28, 13.26, 12.92, 13.45, 12.8],
    deviceDead: [],
    idleLines: 0,
  },
  'pi5-session-device-dead.bin': {
    answers: ["I'm Qwen.", 'The answer to 2+2 is 4.', '你好！请告诉我您需要帮助解决什么问题或想了解什么信息呢？我会尽我所能提供帮助和解答您的问题。'],
    tokensPerSecond: [13.41, 13.86, 13.51],
    deviceDead: ['[2025-11-09 08:46:00.029][10994][W][device manager][listen][292]: device 1 is dead'],
    // the [W] line, the `allocated device memories: 226` line and 226 allocation lines
    idleLines: 228,
  },
};

interface Terminal {
  name: string;
  echo: boolean;
  onlcr: boolean;
}

const TERMINALS: Terminal[] = [
  { name: 'pipe-like terminal (-echo -onlcr)', echo: false, onlcr: false },
  { name: 'terminal echoing the typed line', echo: true, onlcr: false },
  { name: 'terminal mapping \\n to \\r\\n', echo: false, onlcr: true },
  { name: 'terminal with echo and \\r\\n', echo: true, onlcr: true },
];

const CUTTINGS: Cutting[] = [WHOLE, BYTE_BY_BYTE, ...[1, 2, 3].flatMap((seed) => [randomCutting(seed, 5), randomCutting(100 + seed, 300)])];

interface Replay {
  events: FramerEvent[];
  state: FramerState;
  /** Model text of each turn, in order. */
  turns: string[];
}

/** The line the service would type for turn `k` (a handle: the captures do not contain the real lines). */
function typedLine(k: number): string {
  return `qh-turn-${k}-Zk9LmQ0`;
}

function replay(name: CaptureName, terminal: Terminal, cutting: Cutting): Replay {
  const framer = new ReplFramer();
  const events: FramerEvent[] = [];
  const turns: string[] = [];
  segmentsAtPrompts(readCapture(name)).forEach((segment, k) => {
    let bytes = segment;
    const isTurn = k > 0 && segment.includes('hit eos');
    if (isTurn) {
      expect(framer.state).toBe('ready');
      framer.beginTurn(typedLine(k));
      if (terminal.echo) bytes = Buffer.concat([Buffer.from(`${typedLine(k)}\n`), bytes]);
      turns.push('');
    }
    if (terminal.onlcr) bytes = mapNewlines(bytes);
    for (const piece of decodePieces(cutting.cut(bytes))) {
      for (const event of framer.push(piece)) {
        if (event.type === 'text') {
          expect(isTurn).toBe(true); // no model text outside a turn
          turns[turns.length - 1] += event.text;
        }
        events.push(event);
      }
    }
  });
  return { events, state: framer.state, turns };
}

function ofType<T extends FramerEvent['type']>(events: FramerEvent[], type: T): Extract<FramerEvent, { type: T }>[] {
  return events.filter((e): e is Extract<FramerEvent, { type: T }> => e.type === type);
}

describe(`${ReplFramer.name} on real runner captures`, () => {
  for (const name of Object.keys(EXPECTED) as CaptureName[]) {
    const expected = EXPECTED[name];
    describe(name, () => {
      for (const terminal of TERMINALS) {
        describe(terminal.name, () => {
          it.each(CUTTINGS.map((c) => [c.name, c] as const))('%s: answers, footers, load, sampling and device state', (_label, cutting) => {
            const { events, state, turns } = replay(name, terminal, cutting);

            // load: 31 redraws in order, then max_token_len, the sampling JSON, init ok
            const progress = ofType(events, 'progress');
            expect(progress.map((p) => p.step)).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
            expect(progress.every((p) => p.total === 31)).toBe(true);
            expect(progress.map((p) => p.text)).toEqual(LOAD_STEPS);
            expect(ofType(events, 'max-token-len')).toEqual([{ type: 'max-token-len', value: 1024 }]);
            expect(ofType(events, 'post-config')).toEqual([{ type: 'post-config', config: SAMPLING }]);
            expect(ofType(events, 'post-config-missing')).toEqual([]);
            expect(ofType(events, 'init-ok')).toHaveLength(1);
            expect(ofType(events, 'line').slice(0, 3).map((l) => l.text)).toEqual([
              'build time: Feb 13 2025 15:44:57',
              'bos_id: -1, eos_id: 151645',
              'Type "q" to exit, Ctrl+c to stop current running',
            ]);

            // the turns: exact model text, one footer each, `>> ` before every line and after the last answer
            expect(turns).toEqual(expected.answers);
            expect(ofType(events, 'footer').map((f) => f.tokensPerSecond)).toEqual(expected.tokensPerSecond);
            expect(ofType(events, 'ready')).toHaveLength(expected.answers.length + 1);
            for (const text of ofType(events, 'text')) expect(text.text).not.toContain(ESC);
            const records = ofType(events, 'log').map((l) => `${l.level} ${l.fn} ${l.line}`);
            expect(records).toEqual([
              'I Init 111',
              'I Init 226',
              'I Init 231',
              'I load_config 282',
              'I Init 288',
              ...expected.answers.map(() => 'N Run 610'),
            ]);

            // the device: dead while idle at `>> ` (nothing of it is model text), or never
            expect(ofType(events, 'device-dead-suspected').map((d) => d.line)).toEqual(expected.deviceDead);
            const lastFooter = events.map((e) => e.type).lastIndexOf('footer');
            const idle = events.slice(lastFooter + 1);
            expect(ofType(idle, 'text')).toEqual([]);
            expect(ofType(idle, 'line')).toHaveLength(expected.idleLines);
            expect(state).toBe('ready');
          });
        });
      }
    });
  }

  it('reports the real device-dead burst when it arrives mid-answer, after the text printed so far', () => {
    const dead = segmentsAtPrompts(readCapture('pi5-session-device-dead.bin'));
    const burst = dead[dead.length - 1];
    for (const cutting of [WHOLE, BYTE_BY_BYTE, randomCutting(7, 40)]) {
      const framer = new ReplFramer();
      for (const piece of decodePieces([dead[0]])) framer.push(piece);
      expect(framer.state).toBe('ready');
      framer.beginTurn(typedLine(1));
      const events: FramerEvent[] = [];
      for (const piece of decodePieces(cutting.cut(Buffer.concat([Buffer.from('The answer to 2+2 '), burst])))) events.push(...framer.push(piece));
      expect(
        ofType(events, 'text')
          .map((t) => t.text)
          .join('')
          .startsWith('The answer to 2+2 '),
      ).toBe(true);
      expect(ofType(events, 'device-dead-suspected').map((d) => d.line)).toEqual(EXPECTED['pi5-session-device-dead.bin'].deviceDead);
      expect(ofType(events, 'footer')).toEqual([]);
      expect(framer.state).toBe('turn');
    }
  });
});
