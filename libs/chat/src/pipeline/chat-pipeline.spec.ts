import { Logger } from '@nestjs/common';
import type { GenerationEvent } from '@qwen/model';
import { QueueFullError, QueueWaitTooLongError } from '@qwen/model';
import { request as httpRequest } from 'node:http';
import { Observable, Subject } from 'rxjs';
import request from 'supertest';
import { ChatTestApp, createChatTestApp } from '../../../../test/doubles/chat';
import { fakeAnswer } from '../../../../test/doubles/chat';
import type { ProgressEvent } from './generation-events';
import { ChatPipeline } from './chat-pipeline';

/** Sends a chat request over a raw socket; resolves with the request once `until` holds, to abort it. */
function openChat(url: string, body: unknown, onData?: (text: string) => void) {
  const payload = JSON.stringify(body);
  const req = httpRequest(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
  });
  req.on('response', (res) => res.on('data', (chunk: Buffer) => onData?.(chunk.toString('utf8'))));
  req.on('error', () => undefined);
  req.end(payload);
  return req;
}

describe(ChatPipeline.name, () => {
  let t: ChatTestApp;
  let logs: string[];
  let warnings: string[];

  beforeEach(async () => {
    logs = [];
    warnings = [];
    jest.spyOn(Logger.prototype, 'log').mockImplementation(function (this: Logger, message: unknown) {
      if ((this as unknown as { context?: string }).context === 'HttpRequests') logs.push(String(message));
    });
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(function (this: Logger, message: unknown) {
      if ((this as unknown as { context?: string }).context === 'HttpRequests') warnings.push(String(message));
    });
    t = await createChatTestApp({}, true);
  });

  afterEach(async () => {
    await t.close();
    jest.restoreAllMocks();
  });

  /** The log line is written when the response closes, just after the client has its answer. */
  async function waitForLines(n: number): Promise<string[]> {
    const deadline = Date.now() + 3000;
    while (logs.length + warnings.length < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} request log lines, got ${logs.length + warnings.length}`);
      await new Promise((resolve) => setImmediate(resolve));
    }
    return [...logs, ...warnings];
  }

  it('writes exactly one log line per request with id, route, status, queue wait, tokens, ttft and total — no prompt text', async () => {
    t.model.behaviour = () => fakeAnswer('the answer', { promptTokens: 31, completionTokens: 4, queuedMs: 12, ttftMs: 150 });
    const res = await request(t.url)
      .post('/v1/chat/completions')
      .send({ model: 'qwen2.5', messages: [{ role: 'user', content: 'my secret question' }] })
      .expect(200);
    const [line] = await waitForLines(1);
    expect(logs).toHaveLength(1);
    expect(line).toMatch(new RegExp(`^POST /v1/chat/completions 200 id=${res.headers['x-request-id']} queue=12ms prompt=31 prefillEst=2201ms completion=4 ttft=150ms total=\\d+ms$`));
    expect(line).not.toMatch(/secret/);
    expect(t.observations).toEqual([
      { route: 'POST /v1/chat/completions', status: 200, dialect: 'openai', queueWaitMs: 12, ttftMs: 150, promptTokens: 31, completionTokens: 4, durationMs: expect.any(Number) },
    ]);
  });

  it('logs and counts requests refused before reaching a controller (validation, malformed JSON, unknown route)', async () => {
    await request(t.url).post('/v1/chat/completions').send({ model: 'm', messages: 'nope' }).expect(400);
    await request(t.url).post('/v1/chat/completions').set('Content-Type', 'application/json').send('{').expect(400);
    await request(t.url).get('/v1/nothing-here').expect(404);
    const lines = await waitForLines(3);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^POST \/v1\/chat\/completions 400 id=\S+ total=\d+ms error=invalid_request_error$/);
    expect(lines[2]).toMatch(/^GET \/v1\/nothing-here 404 /);
    expect(t.observations.map((o) => [o.route, o.status])).toEqual([
      ['POST /v1/chat/completions', 400],
      ['POST unmatched', 400],
      ['GET unmatched', 404],
    ]);
  });

  it('logs a refused request with its error code and warns on server errors', async () => {
    t.model.behaviour = () => new Observable((s) => s.error(new QueueFullError(16)));
    await request(t.url).post('/v1/chat/completions').send({ model: 'm', messages: [{ role: 'user', content: 'x' }] }).expect(429);
    t.model.behaviour = () => new Observable((s) => s.error(new Error('boom')));
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    await request(t.url).post('/v1/chat/completions').send({ model: 'm', messages: [{ role: 'user', content: 'x' }] }).expect(500);
    await waitForLines(2);
    expect(logs).toEqual([expect.stringMatching(/ 429 .* error=queue_full$/)]);
    expect(warnings).toEqual([expect.stringMatching(/ 500 .* error=server_error$/)]);
  });

  it('cancels the generation when the client of a non-streamed request disconnects', async () => {
    t.model.behaviour = () => new Subject<GenerationEvent>(); // never answers
    const req = openChat(t.url, { model: 'm', messages: [{ role: 'user', content: 'x' }] });
    const generation = await t.model.whenRequested();
    req.destroy();
    await expect(t.model.whenCancelled()).resolves.toBe(generation.requestId);
    const [line] = await waitForLines(1);
    expect(line).toMatch(/ 499 .* client-closed$/);
    expect(t.observations[0].status).toBe(499);
  });

  it('cancels a streamed generation when the client disconnects mid-stream', async () => {
    const events = new Subject<GenerationEvent>();
    t.model.behaviour = () => events;
    let received = '';
    let sawDelta!: () => void;
    const gotDelta = new Promise<void>((resolve) => (sawDelta = resolve));
    const req = openChat(t.url, { model: 'm', stream: true, messages: [{ role: 'user', content: 'x' }] }, (text) => {
      received += text;
      if (received.includes('"first"')) sawDelta();
    });
    const generation = await t.model.whenRequested();
    const [start, delta] = fakeAnswer('first');
    events.next(start);
    events.next(delta);
    await gotDelta;
    req.destroy();
    await expect(t.model.whenCancelled()).resolves.toBe(generation.requestId);
    const [line] = await waitForLines(1);
    expect(line).toMatch(/ 499 .* prompt=10 .* stream client-closed$/);
  });

  describe('waiting requests', () => {
    const queued: ProgressEvent = { type: 'progress', phase: 'queued', position: 1, promptTokens: 10, fedEstimate: null, etaMs: 9_000 };
    const prefill: ProgressEvent = { type: 'progress', phase: 'prefill', position: null, promptTokens: 10, fedEstimate: 4, etaMs: 500 };

    it('opens an OpenAI stream when the request is accepted, one comment per progress event, then the answer', async () => {
      const events = new Subject<GenerationEvent>();
      t.model.behaviour = () => events;
      let received = '';
      let notify: (() => void) | null = null;
      const payload = JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'x' }] });
      const headers = new Promise<Record<string, unknown>>((resolve) => {
        const req = httpRequest(`${t.url}/v1/chat/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json' } });
        req.on('response', (res) => {
          resolve(res.headers);
          res.on('data', (chunk: Buffer) => {
            received += chunk.toString('utf8');
            notify?.();
          });
        });
        req.end(payload);
      });
      const receivedUntil = (text: string) =>
        new Promise<void>((resolve) => {
          notify = () => received.includes(text) && resolve();
          notify();
        });
      await t.model.whenRequested();
      events.next(queued);
      const head = await headers; // before any answer: the request only waits
      expect(head['content-type']).toMatch(/^text\/event-stream/);
      expect(head['x-qwen-sampling']).toBe('temperature=0.9; top_k=10');
      await receivedUntil('\n\n');
      expect(received).toBe(': queued: position 1, 10 prompt tokens, first token in about 9 s\n\n');
      const [start, delta, done] = fakeAnswer('hello', { queuedMs: 7_592 });
      events.next(start);
      events.next(prefill);
      events.next(delta);
      events.next(done);
      events.complete();
      await receivedUntil('[DONE]');
      const lines = received.split('\n').filter(Boolean);
      expect(lines.slice(0, 4)).toEqual([
        ': queued: position 1, 10 prompt tokens, first token in about 9 s',
        ': started: waited 7592 ms in the queue',
        expect.stringMatching(/^data: .*"role":"assistant"/),
        ': prefill: 4/10 prompt tokens fed (estimated), first token in about 1 s',
      ]);
      expect(lines.slice(4)).toEqual([expect.stringMatching(/"content":"hello"/), expect.stringMatching(/"finish_reason":"stop"/), 'data: [DONE]']);
      const [line] = await waitForLines(1);
      expect(line).toMatch(/ 200 .* queue=7592ms .* stream$/);
    });

    it('writes no progress into an Ollama NDJSON stream (every line is an answer object)', async () => {
      t.model.behaviour = () => [queued, ...fakeAnswer('hi')];
      const res = await request(t.url).post('/api/chat').send({ model: 'qwen2.5', messages: [{ role: 'user', content: 'x' }] }).expect(200);
      const lines = res.text.trim().split('\n').map((line) => JSON.parse(line) as { message?: { content: string }; done: boolean });
      expect(lines.map((l) => [l.message?.content, l.done])).toEqual([
        ['hi', false],
        ['', true],
      ]);
    });

    it('says how long a non-streamed request waited in X-Qwen-Queue-Wait-Ms and ignores its progress', async () => {
      t.model.behaviour = () => [queued, ...fakeAnswer('fine', { queuedMs: 1_234 })];
      const res = await request(t.url).post('/v1/chat/completions').send({ model: 'm', messages: [{ role: 'user', content: 'x' }] }).expect(200);
      expect(res.headers['x-qwen-queue-wait-ms']).toBe('1234');
      expect(res.body.choices[0].message.content).toBe('fine');
    });

    it('bounds the wait of non-streamed requests only: a refusal is 503 with Retry-After in each API\'s shape', async () => {
      t.model.behaviour = () => new Observable((s) => s.error(new QueueWaitTooLongError(90_000, 60_000)));
      const openai = await request(t.url).post('/v1/chat/completions').send({ model: 'm', messages: [{ role: 'user', content: 'x' }] }).expect(503);
      expect(openai.headers['retry-after']).toBe('30');
      expect(openai.body.error).toMatchObject({ type: 'server_error', code: 'queue_wait_too_long', message: expect.stringMatching(/wait about 90 s/) });
      const ollama = await request(t.url).post('/api/generate').send({ model: 'qwen2.5', prompt: 'x', stream: false }).expect(503);
      expect(ollama.headers['retry-after']).toBe('30');
      expect(ollama.body).toEqual({ error: expect.stringMatching(/wait about 90 s/) });
      expect(t.model.admissions).toEqual([{ maxQueueWaitMs: 60_000 }, { maxQueueWaitMs: 60_000 }]);
      t.model.behaviour = () => fakeAnswer('streamed');
      await request(t.url).post('/v1/chat/completions').send({ model: 'm', stream: true, messages: [{ role: 'user', content: 'x' }] }).expect(200);
      expect(t.model.admissions[2]).toEqual({});
    });
  });

  it('does not cancel a generation that finished normally', async () => {
    await request(t.url).post('/v1/chat/completions').send({ model: 'm', stream: true, messages: [{ role: 'user', content: 'x' }] }).expect(200);
    await request(t.url).post('/v1/chat/completions').send({ model: 'm', messages: [{ role: 'user', content: 'x' }] }).expect(200);
    await waitForLines(2);
    expect(t.model.cancelled).toEqual([]);
  });
});
