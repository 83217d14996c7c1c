import { Logger } from '@nestjs/common';
import type { GenerationEvent } from '@qwen/model';
import { QueueFullError } from '@qwen/model';
import { request as httpRequest } from 'node:http';
import { Observable, Subject } from 'rxjs';
import request from 'supertest';
import { ChatTestApp, createChatTestApp } from '../../../../test/doubles/chat';
import { fakeAnswer } from '../../../../test/doubles/chat';
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

  it('does not cancel a generation that finished normally', async () => {
    await request(t.url).post('/v1/chat/completions').send({ model: 'm', stream: true, messages: [{ role: 'user', content: 'x' }] }).expect(200);
    await request(t.url).post('/v1/chat/completions').send({ model: 'm', messages: [{ role: 'user', content: 'x' }] }).expect(200);
    await waitForLines(2);
    expect(t.model.cancelled).toEqual([]);
  });
});
