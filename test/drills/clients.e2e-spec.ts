/**
 * Failure drills on the client side (issue 8): clients that leave at every phase of a request
 * (queued, before the first token, mid-stream, non-streamed mid-generation) and a burst that
 * overflows the queue. The runner must be freed at once (Ctrl-C or never typed), the queue must stay
 * consistent, nothing accepted may be lost, and the next request must be served.
 * Real service + tokenizer server + runner emulator under node-pty. Requires `npm run build`.
 */
import { startTestService, TestService } from '@qwen/testing';
import { existsSync, writeFileSync } from 'node:fs';
import OpenAI from 'openai';
import { chatBody, expectNormalAnswer, openAiClient, runnerStarts, until } from './drill-support';

jest.setTimeout(60000);

describe('Drill: clients disconnecting at every phase', () => {
  let service: TestService;
  let client: OpenAI;
  const idle = (s: { state: string; queue: { length: number; inFlight: number } }) => s.state === 'ready' && s.queue.length === 0 && s.queue.inFlight === 0;

  beforeAll(async () => {
    // 20 ms per generated AND per prompt token: a 300-token prompt takes ~6 s before its first token.
    service = await startTestService({
      emulatorEnv: { QWEN_EMU_TOKEN_MS: '20', QWEN_EMU_PROMPT_TOKEN_MS: '20' },
      configure: (c) => (c.model.queueMaxLength = 4),
    });
    client = openAiClient(service);
  });
  afterAll(() => service?.close());

  afterEach(() => {
    // No drill may cost a model load.
    expect(runnerStarts(service)).toBe(1);
    expect(service.model.snapshot().loads).toBe(1);
  });

  it('while queued: the request leaves the queue, is never typed, and the one running completes intact', async () => {
    const runningText = 'the running request keeps going. ';
    writeFileSync(service.faultFile, JSON.stringify({ repeat: 4 }));
    const running = client.chat.completions.create(chatBody(runningText));
    await service.waitForModel((s) => s.state === 'busy', 'the first request to run');
    const leaving = new AbortController();
    const queued = client.chat.completions.create({ ...chatBody('I will leave the queue'), stream: true }, { signal: leaving.signal }).catch((e: unknown) => e);
    const stays = client.chat.completions.create(chatBody('I stay in the queue'));
    await service.waitForModel((s) => s.queue.length === 2, 'two requests waiting');
    leaving.abort();
    expect(await queued).toBeInstanceOf(OpenAI.APIUserAbortError);
    await service.waitForModel((s) => s.queue.length <= 1, 'the leaving request to be dropped from the queue', 5000);
    // Nothing accepted is lost: the running one and the one still queued both complete, exactly.
    expect((await running).choices[0].message.content).toBe(runningText.repeat(4));
    expect((await stays).choices[0].message.content).toBe('I stay in the queue');
    await service.waitForModel(idle, 'an idle runner');
    await expectNormalAnswer(service, 'next after a queued client left');
  });

  /** The request left the queue and its handle was typed (the turn exists; no event is published for that step). */
  async function typedIntoRunner(): Promise<void> {
    await service.waitForModel((s) => s.state === 'busy', 'the request to leave the queue');
    await until(() => service.model.snapshot().queue.inFlight === 1, 'the handle to be typed into the runner', 5000, 5);
  }

  /** A raw streamed request (fetch): the test decides exactly when the socket closes. */
  async function openStream(content: string, signal: AbortSignal): Promise<{ status: number; read: () => Promise<string | null> }> {
    const res = await fetch(`${service.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...chatBody(content), stream: true }),
      signal,
    });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    return {
      status: res.status,
      read: async () => {
        const { value, done } = await reader.read();
        return done ? null : decoder.decode(value, { stream: true });
      },
    };
  }

  it('before the first token (during the prompt evaluation): Ctrl-C frees the runner long before the prefill ends', async () => {
    const longPrompt = 'a long prompt to evaluate '.repeat(60); // ~300 tokens ≈ 6 s of prefill at 20 ms/token
    const leaving = new AbortController();
    const received: string[] = [];
    const streaming = openStream(longPrompt, leaving.signal).then(async (s) => {
      for (let chunk = await s.read(); chunk !== null; chunk = await s.read()) received.push(chunk);
    });
    const settled = streaming.then(
      () => 'ended',
      (e: unknown) => (e as Error).name,
    );
    await typedIntoRunner();
    leaving.abort();
    const abortedAt = Date.now();
    expect(await settled).toBe('AbortError');
    expect(received.join('')).not.toMatch(/"content":"a long/);
    await service.waitForModel(idle, 'the runner freed by Ctrl-C', 10000);
    expect(Date.now() - abortedAt).toBeLessThan(4000);
    await expectNormalAnswer(service, 'next after a client left before its first token');
  });

  it('mid-stream: the generation stops at once and the next request runs', async () => {
    writeFileSync(service.faultFile, JSON.stringify({ repeat: 100 }));
    const leaving = new AbortController();
    const stream = await openStream('streamed until the client leaves. ', leaving.signal);
    expect(stream.status).toBe(200);
    let text = '';
    while (!text.includes('streamed until the client leaves. streamed')) {
      const chunk = await stream.read();
      if (chunk === null) throw new Error(`the stream ended early: ${text}`);
      text += chunk.replace(/^data: /gm, '').split('\n').map((line) => {
        try {
          return (JSON.parse(line) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '';
        } catch {
          return '';
        }
      }).join('');
    }
    leaving.abort();
    const abortedAt = Date.now();
    await service.waitForModel(idle, 'the cancelled generation to stop', 10000);
    // The whole answer needs ~700 tokens x 20 ms = 14 s.
    expect(Date.now() - abortedAt).toBeLessThan(4000);
    await expectNormalAnswer(service, 'next after a client left mid-stream');
  });

  it('non-streamed, mid-generation: the service notices the closed socket and stops the runner', async () => {
    writeFileSync(service.faultFile, JSON.stringify({ repeat: 100 }));
    const leaving = new AbortController();
    const request = fetch(`${service.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chatBody('a non-streamed answer nobody waits for. ')),
      signal: leaving.signal,
    }).then(
      (res) => `status ${res.status}`,
      (e: unknown) => (e as Error).name,
    );
    await typedIntoRunner();
    // The emulator consumes the fault file when it reads the request's line: the runner took it.
    await until(() => !existsSync(service.faultFile), 'the runner to read the request line', 5000, 5);
    leaving.abort();
    expect(await request).toBe('AbortError');
    const abortedAt = Date.now();
    await service.waitForModel(idle, 'the abandoned generation to stop', 10000);
    expect(Date.now() - abortedAt).toBeLessThan(4000);
    await expectNormalAnswer(service, 'next after a non-streamed client left');
  });
});

describe('Drill: queue overflow under a burst', () => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService({ emulatorEnv: { QWEN_EMU_TOKEN_MS: '10' }, configure: (c) => (c.model.queueMaxLength = 3) });
  });
  afterAll(() => service?.close());

  it('20 simultaneous clients while one generates: exactly 3 queued and served in full, 17 refused with 429 in the OpenAI shape', async () => {
    const holder = 'the request holding the runner. ';
    writeFileSync(service.faultFile, JSON.stringify({ repeat: 30 }));
    const client = openAiClient(service);
    const holding = client.chat.completions.create(chatBody(holder));
    await service.waitForModel((s) => s.state === 'busy', 'the first request to hold the runner');

    const burst = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const res = await fetch(`${service.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(chatBody(`burst client ${i}`)),
        });
        return { i, status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, unknown> };
      }),
    );
    const served = burst.filter((r) => r.status === 200);
    const refused = burst.filter((r) => r.status === 429);
    expect(served).toHaveLength(3);
    expect(refused).toHaveLength(17);
    for (const r of served) {
      expect(r.body).toMatchObject({ object: 'chat.completion', choices: [{ message: { content: `burst client ${r.i}` }, finish_reason: 'stop' }] });
    }
    for (const r of refused) {
      expect(r.body).toMatchObject({ error: { type: 'rate_limit_error', code: 'queue_full', message: expect.stringMatching(/busy/) } });
      expect(r.retryAfter).toMatch(/^\d+$/);
    }
    expect((await holding).choices[0].message.content).toBe(holder.repeat(30));
    await service.waitForModel((s) => s.state === 'ready' && s.queue.length === 0 && s.queue.inFlight === 0, 'the queue to drain');

    // The Ollama dialect refuses the same way in its own shape (503 "server busy").
    writeFileSync(service.faultFile, JSON.stringify({ repeat: 30 }));
    const holding2 = client.chat.completions.create(chatBody(holder));
    await service.waitForModel((s) => s.state === 'busy', 'the runner held again');
    const ollama = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const res = await fetch(`${service.url}/api/chat`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'qwen2.5', stream: false, messages: [{ role: 'user', content: `ollama burst ${i}` }] }),
        });
        return { i, status: res.status, body: (await res.json()) as Record<string, unknown> };
      }),
    );
    expect(ollama.filter((r) => r.status === 200)).toHaveLength(3);
    const busy = ollama.filter((r) => r.status === 503);
    expect(busy).toHaveLength(3);
    for (const r of busy) expect(r.body).toEqual({ error: expect.stringMatching(/server busy/) });
    for (const r of ollama.filter((x) => x.status === 200)) expect(r.body).toMatchObject({ message: { content: `ollama burst ${r.i}` }, done: true });
    expect((await holding2).choices[0].message.content).toBe(holder.repeat(30));
    expect(runnerStarts(service)).toBe(1);
    await expectNormalAnswer(service, 'served after the bursts');
  });
});
