/**
 * Failure drill: 1,000 malformed or hostile request bodies against the real service (issue 8).
 * Deterministic (a seeded generator: the same 1,000 bodies every run) and fast: almost every body
 * must be refused by validation; the few valid-but-hostile ones that reach the model ask for at
 * most 2 tokens. Every answer must be a 4xx in the API's own error shape (OpenAI
 * `{"error":{"message","type",…}}` on /v1, Ollama `{"error":"…"}` on /api), never a 5xx; the runner
 * must stay the one loaded at start, and the next normal request must be answered correctly.
 * Requires `npm run build`.
 */
import { startTestService, TestService } from '@qwen/testing';
import { request as httpRequest } from 'node:http';
import { seededRandom as prng } from '../fixtures/chunking';
import { expectNormalAnswer, runnerStarts } from './drill-support';

jest.setTimeout(90000);

type Dialect = 'openai' | 'ollama';
type Expectation = 'reject' | 'any';

interface HostileCase {
  name: string;
  path: string;
  dialect: Dialect;
  body: Buffer;
  contentType: string;
  /** reject: must be a 4xx; any: a valid-but-hostile body, a 200 or a 4xx (never a 5xx). */
  expect: Expectation;
}

const ENDPOINTS: { path: string; dialect: Dialect; base: () => Record<string, unknown>; textField: string }[] = [
  { path: '/v1/chat/completions', dialect: 'openai', base: () => ({ model: 'qwen2.5', max_tokens: 2, messages: [{ role: 'user', content: 'hi' }] }), textField: 'messages' },
  { path: '/v1/completions', dialect: 'openai', base: () => ({ model: 'qwen2.5', max_tokens: 2, prompt: 'hi' }), textField: 'prompt' },
  { path: '/api/chat', dialect: 'ollama', base: () => ({ model: 'qwen2.5', stream: false, options: { num_predict: 2 }, messages: [{ role: 'user', content: 'hi' }] }), textField: 'messages' },
  { path: '/api/generate', dialect: 'ollama', base: () => ({ model: 'qwen2.5', stream: false, options: { num_predict: 2 }, prompt: 'hi' }), textField: 'prompt' },
];

/** Values of the wrong type for each field (every one is invalid for that field). */
const WRONG: Record<string, unknown[]> = {
  model: [123, null, [], {}, true, ''],
  messages: ['hello', 42, {}, null, [], [null], [42], ['text'], [{ role: 'user' }], [{ role: 'hacker', content: 'x' }], [{ role: 'user', content: 42 }], [{ content: 'x' }], [{ role: ['user'], content: 'x' }]],
  prompt: [42, {}, true, [[[]]], [1.5]],
  max_tokens: ['ten', -1, 0, 1.5, {}, [], true, 1e20],
  temperature: ['hot', -1, 100, {}, [], true],
  top_p: ['all', -0.5, 7, {}],
  stream: ['yes', 1, {}, []],
  stop: [42, [1, 2], {}, Array.from({ length: 50 }, (_, i) => `s${i}`)],
  n: [0, -2, 'two', 5],
  options: ['fast', 42, [], { num_predict: 'many' }, { temperature: 'hot' }],
  keep_alive: [{}, [], true],
  format: [42, 'xml', []],
};
const OPENAI_FIELDS = ['model', 'max_tokens', 'temperature', 'top_p', 'stream', 'stop', 'n'];
const OLLAMA_FIELDS = ['model', 'stream', 'options', 'keep_alive', 'format'];

function deep(depth: number, open: string, close: string, leaf = '1'): string {
  return open.repeat(depth) + leaf + close.repeat(depth);
}

function controlString(rand: () => number, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += String.fromCharCode(rand() < 0.5 ? Math.floor(rand() * 32) : 0x7f + Math.floor(rand() * 33));
  return s;
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** The 1,000 cases, in a fixed order. */
function hostileCases(count: number, seed: number): HostileCase[] {
  const rand = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)];
  const cases: HostileCase[] = [];
  const kinds = [
    'bad-json', 'not-object', 'wrong-type', 'wrong-type', 'wrong-type', 'missing', 'huge-field', 'deep-nesting',
    'invalid-utf8-outside', 'raw-control-in-json', 'wrong-content-type', 'unknown-and-wrong',
  ] as const;
  for (let i = 0; i < count; i++) {
    const endpoint = pick(ENDPOINTS);
    const body = endpoint.base();
    const add = (name: string, payload: Buffer, expect: Expectation, contentType = 'application/json') =>
      cases.push({ name: `${i} ${endpoint.path} ${name}`, path: endpoint.path, dialect: endpoint.dialect, body: payload, contentType, expect });
    // About 1 in 20 is valid but hostile and reaches the model (with a 2-token limit).
    if (rand() < 0.05) {
      const hostile = pick(['controls', 'unknown-fields', 'invalid-utf8-inside', 'prompt-markers']);
      const text =
        hostile === 'controls' ? `a${controlString(rand, 8)}b` : hostile === 'prompt-markers' ? pick(['q', '>> ', '\n\n>> q\n', '[N][ Run][ 610]: hit eos']) : 'hello';
      if (endpoint.textField === 'messages') body.messages = [{ role: 'user', content: text }];
      else body.prompt = text;
      if (hostile === 'unknown-fields') Object.assign(body, { zz_unknown: { nested: [1, 2, 3] }, __proto__x: 'y', constructor_: 1 });
      let payload = json(body);
      if (hostile === 'invalid-utf8-inside') {
        const marker = payload.indexOf('hello');
        payload = Buffer.concat([payload.subarray(0, marker), Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80]), payload.subarray(marker)]);
      }
      add(`valid-hostile:${hostile}`, payload, 'any');
      continue;
    }
    const kind = pick(kinds);
    switch (kind) {
      case 'bad-json': {
        const text = JSON.stringify(body);
        const variants = [text.slice(0, Math.max(1, Math.floor(rand() * (text.length - 1)))), `${text},`, text.replace(/"/g, "'"), '{"model":}', '{,}', 'NaN', '{"a":1}}', '\u0000{}', '{"messages":[{"role":"user","content":"x"]}'];
        add('bad-json', Buffer.from(pick(variants)), 'reject');
        break;
      }
      case 'not-object':
        add('not-object', Buffer.from(pick(['[]', '"a string"', '42', 'null', 'true', '[{"model":"qwen2.5"}]'])), 'reject');
        break;
      case 'wrong-type': {
        const field = rand() < 0.4 ? endpoint.textField : pick(endpoint.dialect === 'openai' ? OPENAI_FIELDS : OLLAMA_FIELDS);
        let value = pick(WRONG[field]);
        // Ollama's wire format accepts numbers for options and the like; only clearly wrong values here.
        if (endpoint.dialect === 'ollama' && field === 'model') value = pick([123, null, [], {}, true]);
        body[field] = value;
        // Ollama: empty or null messages mean "load the model", and a message without content is an empty one, like the real Ollama.
        const loadOnly =
          endpoint.dialect === 'ollama' &&
          field === 'messages' &&
          (value === null || (Array.isArray(value) && (value.length === 0 || JSON.stringify(value) === '[{"role":"user"}]')));
        add(`wrong-type:${field}=${JSON.stringify(value).slice(0, 40)}`, json(body), loadOnly ? 'any' : 'reject');
        break;
      }
      case 'missing': {
        delete body[rand() < 0.7 ? endpoint.textField : 'model'];
        if (rand() < 0.3) for (const key of Object.keys(body)) delete body[key];
        // Ollama answers a body without messages/prompt as a "load the model" request (done_reason "load").
        add('missing-field', json(body), endpoint.dialect === 'ollama' && 'model' in body ? 'any' : 'reject');
        break;
      }
      case 'huge-field': {
        const size = pick([100_000, 600_000, 1_100_000, 3_000_000]);
        const where = pick(['model', 'text', 'stop']);
        if (where === 'model') body.model = 'm'.repeat(size);
        else if (where === 'stop' && endpoint.dialect === 'openai') body.stop = ['x'.repeat(size)];
        else if (endpoint.textField === 'messages') body.messages = [{ role: 'user', content: 'word '.repeat(size / 5) }];
        else body.prompt = 'word '.repeat(size / 5);
        // Under the 1 MB body limit a long model name or stop string may be accepted (any name is served);
        // over it, the answer must be 413.
        add(`huge-${where}:${size}`, json(body), size > 1_048_576 ? 'reject' : 'any');
        break;
      }
      case 'deep-nesting': {
        const depth = pick([1000, 10_000, 100_000]);
        const where = pick(['whole', 'content', 'unknown']);
        const nested = rand() < 0.5 ? deep(depth, '[', ']') : deep(depth, '{"a":', '}');
        const text = JSON.stringify(body);
        const payload =
          where === 'whole'
            ? nested
            : where === 'unknown'
              ? // an unknown field holding a deep structure next to a valid-looking body, plus one wrong type so it must fail
                `${text.slice(0, -1)},"deep":${nested},"max_tokens":"x","options":"x"}`
              : endpoint.textField === 'messages'
                ? text.replace('"content":"hi"', `"content":${nested}`)
                : text.replace('"prompt":"hi"', `"prompt":${nested}`);
        add(`deep-${where}:${depth}`, Buffer.from(payload), 'reject');
        break;
      }
      case 'invalid-utf8-outside':
        add('invalid-utf8-outside', Buffer.concat([Buffer.from([0xff, 0xfe, 0xc0, 0x80]), json(body)]), 'reject');
        break;
      case 'raw-control-in-json': {
        // Unescaped control characters inside a JSON string are not JSON.
        const text = JSON.stringify(body).replace('"hi"', `"h${String.fromCharCode(1 + Math.floor(rand() * 30))}i"`);
        add('raw-control-in-json', Buffer.from(text), 'reject');
        break;
      }
      case 'wrong-content-type':
        // Ollama, like the real one, does not look at Content-Type.
        add('text/plain body', json(body), endpoint.dialect === 'ollama' ? 'any' : 'reject', pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']));
        break;
      case 'unknown-and-wrong':
        Object.assign(body, { zz_unknown: controlString(rand, 20), __proto__: { polluted: true }, constructor: { prototype: { polluted: true } } });
        if (endpoint.textField === 'messages') body.messages = [{ role: 'user', content: { $gt: '' } }];
        else body.prompt = { $gt: '' };
        add('unknown-and-wrong', json(body), 'reject');
        break;
    }
  }
  return cases;
}

/** A raw POST over a keep-alive agent-free socket (fetch would refuse or re-encode some of these bodies). */
function post(url: string, c: HostileCase): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${c.path}`, { method: 'POST', headers: { 'content-type': c.contentType, 'content-length': c.body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(c.body);
  });
}

function shapeProblem(c: HostileCase, status: number, text: string): string | null {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `not JSON: ${text.slice(0, 120)}`;
  }
  const b = body as Record<string, unknown>;
  if (status === 200) {
    if (c.dialect === 'openai') return Array.isArray(b.choices) && b.choices.length === 1 ? null : `200 without choices: ${text.slice(0, 200)}`;
    return b.done === true ? null : `200 without done: ${text.slice(0, 200)}`;
  }
  if (c.dialect === 'openai') {
    const e = b.error as Record<string, unknown> | undefined;
    return e && typeof e.message === 'string' && e.message.length > 0 && typeof e.type === 'string' && 'code' in e && 'param' in e
      ? null
      : `not the OpenAI error shape: ${text.slice(0, 200)}`;
  }
  return typeof b.error === 'string' && b.error.length > 0 && Object.keys(b).length === 1 ? null : `not the Ollama error shape: ${text.slice(0, 200)}`;
}

/** Bodies nested 10,000+ levels deep (20 KB, far under the body limit): see the second test. */
function isDeepNesting(c: HostileCase): boolean {
  return /deep-\w+:(10000|100000)$/.test(c.name);
}

describe('Drill: 1,000 malformed or hostile request bodies', () => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService({ emulatorEnv: { QWEN_EMU_TOKEN_MS: '0' } });
  });
  afterAll(() => service?.close());

  it('answers every one with a 4xx in its dialect’s error shape (or, for valid-but-hostile ones, a correct 200), never a 5xx', async () => {
    const all = hostileCases(1000, 0x5eed);
    expect(all).toHaveLength(1000);
    const cases = all.filter((c) => !isDeepNesting(c));
    const problems: string[] = [];
    const statuses = new Map<number, number>();
    let reachedModel = 0;
    for (const c of cases) {
      const { status, body } = await post(service.url, c);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status === 200) reachedModel += 1;
      const statusOk = c.expect === 'reject' ? status >= 400 && status < 500 : status === 200 || (status >= 400 && status < 500);
      if (!statusOk) problems.push(`${c.name}: status ${status} ${body.slice(0, 160)}`);
      const shape = shapeProblem(c, status, body);
      if (shape) problems.push(`${c.name}: ${shape}`);
    }
    expect(problems).toEqual([]);
    expect(statuses.get(500) ?? 0).toBe(0);
    // The generator really did send both kinds.
    expect(reachedModel).toBeGreaterThan(10);
    expect(reachedModel).toBeLessThan(200); // most are refused by validation, before the model
    expect([...statuses.keys()].filter((s) => s >= 400).length).toBeGreaterThanOrEqual(2); // 400 and 413 at least

    // The runner was never disturbed: the one loaded at start, never restarted, idle.
    expect(runnerStarts(service)).toBe(1);
    expect(service.model.snapshot()).toMatchObject({ state: 'ready', loads: 1, restarts: 0, queue: { length: 0, inFlight: 0 } });
    await expectNormalAnswer(service, 'a normal question after 1,000 hostile bodies');
  });

  it('answers bodies nested 10,000 and 100,000 levels deep with a 4xx (no stack overflow in validation)', async () => {
    const cases = hostileCases(1000, 0x5eed).filter(isDeepNesting);
    expect(cases.length).toBeGreaterThan(10);
    const problems: string[] = [];
    for (const c of cases) {
      const { status, body } = await post(service.url, c);
      if (status < 400 || status >= 500) problems.push(`${c.name}: status ${status} ${body.slice(0, 120)}`);
      const shape = shapeProblem(c, status, body);
      if (shape) problems.push(`${c.name}: ${shape}`);
    }
    expect(problems).toEqual([]);
    expect(service.model.snapshot()).toMatchObject({ state: 'ready', loads: 1, restarts: 0 });
    await expectNormalAnswer(service, 'a normal question after the deep bodies');
  });
});
