/**
 * Drills of the tokenizer server under load and against a foreign local client (issue 12).
 * Real service, tokenizer server process and runner emulator under node-pty. The emulator behaves
 * like the real runner: any tokenizer call slower than 1 s kills it with SIGSEGV — so "exactly one
 * model load" proves the tokenizer never stalled the runner. Requires `npm run build`.
 */
import { startTestService, TestService } from '@qwen/testing';
import { writeFileSync } from 'node:fs';
import OpenAI from 'openai';
import { chatBody, drainStream, expectNormalAnswer, openAiClient, runnerStarts } from './drill-support';

jest.setTimeout(60000);

type Message = OpenAI.Chat.ChatCompletionMessageParam;

/** `count` messages of about `bytes` in all, alternating user/assistant, ending with the user message `last`. */
function heavyHistory(count: number, bytes: number, last: string): Message[] {
  const each = Math.max(1, Math.floor(bytes / count));
  const filler = 'words and 中文 and more words '.repeat(Math.ceil(each / 28)).slice(0, each);
  const messages: Message[] = Array.from({ length: count - 1 }, (_, i) =>
    i % 2 === 0 ? { role: 'user' as const, content: `${i}: ${filler}` } : { role: 'assistant' as const, content: `${i}: ${filler}` },
  );
  messages.push({ role: 'user', content: last });
  return messages;
}

describe('Drill: the tokenizer under load and against foreign local clients', () => {
  let service: TestService;
  let client: OpenAI;
  const idle = (s: { state: string; queue: { length: number; inFlight: number } }) => s.state === 'ready' && s.queue.length === 0 && s.queue.inFlight === 0;

  beforeAll(async () => {
    service = await startTestService({
      emulatorEnv: { QWEN_EMU_TOKEN_MS: '10' },
      configure: (c) => {
        c.server.bodyLimit = '4mb'; // the 1 MB bodies must reach the tokenizer, not stop at the edge
        c.model.queueMaxLength = 16;
        c.model.prefillMsPerToken = 0;
        // This drill is about the tokenizer: every queued non-streamed request must wait its turn (not be
        // refused as a long wait, docs/long-waits.md), and the 300-client flood must reach the queue
        // (not stop at the listener's connection cap, docs/security.md).
        c.model.nonStreamedMaxWaitMs = 3_600_000;
        c.server.limits.maxConnections = 1024;
      },
    });
    client = openAiClient(service);
  });
  afterAll(() => service?.close());

  afterEach(async () => {
    await service.waitForModel(idle, 'an idle runner');
    // The runner never died: one load in all, whatever the tokenizer was given.
    expect(runnerStarts(service)).toBe(1);
    expect(service.model.snapshot().loads).toBe(1);
  });

  it('a long streamed answer + 4 heavy histories + a 32,000-message request + a 1 MB paste: no crash, one load, every answer exact', async () => {
    const streamed = 'a long streamed answer goes on. ';
    writeFileSync(service.faultFile, JSON.stringify({ repeat: 25 }));
    const stream = await client.chat.completions.create({ ...chatBody(streamed), stream: true });
    let others: Promise<unknown[]> | null = null;
    const heavy = Array.from({ length: 4 }, (_, k) => heavyHistory(200, 100_000, `heavy history ${k}`));
    const manyMessages: Message[] = Array.from({ length: 32_000 }, (_, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: 'x' }));
    manyMessages.push({ role: 'user', content: 'the last of 32000 messages' });
    const paste = 'pasted text '.repeat(90_000); // ~1 MB
    // max_tokens: old messages are dropped until the prompt leaves room for 50 answer tokens (the echo needs < 10)

    const outcome = await drainStream(stream, () => {
      // Sent while the answer streams: every one is registered (fitted) during the turn.
      others ??= Promise.all([
        ...heavy.map((messages) => client.chat.completions.create({ model: 'qwen2.5', messages, max_tokens: 50 })),
        client.chat.completions.create({ model: 'qwen2.5', messages: manyMessages, max_tokens: 50 }),
        client.chat.completions.create(chatBody(paste)).catch((error: unknown) => error),
      ]);
    });
    expect(outcome.error).toBeNull();
    expect(outcome.text).toBe(streamed.repeat(25));
    expect(outcome.finishReason).toBe('stop');

    const answers = await others!;
    const [h0, h1, h2, h3, many, pasted] = answers as [...OpenAI.Chat.ChatCompletion[], unknown];
    [h0, h1, h2, h3].forEach((answer, k) => {
      expect((answer as OpenAI.Chat.ChatCompletion).choices[0].message.content).toBe(`heavy history ${k}`);
    });
    expect((many as OpenAI.Chat.ChatCompletion).choices[0].message.content).toBe('the last of 32000 messages');
    // The paste cannot fit the 1,024-token window: a clear 400 in the OpenAI shape, never a wrong answer.
    expect(pasted).toBeInstanceOf(OpenAI.BadRequestError);
    expect(pasted).toMatchObject({ status: 400, code: 'context_length_exceeded' });
    await expectNormalAnswer(service, 'served normally after the load');
  });

  it('a flood of refused requests while 16 wait: every queued request gets its own answer', async () => {
    const running = 'the running answer holds the runner. ';
    writeFileSync(service.faultFile, JSON.stringify({ repeat: 100 })); // ~800 tokens: 8 s of a busy runner
    const first = client.chat.completions.create(chatBody(running));
    await service.waitForModel((s) => s.state === 'busy', 'the first request to run');
    const queued = Array.from({ length: 16 }, (_, k) => client.chat.completions.create(chatBody(`queued request number ${k}`)));
    await service.waitForModel((s) => s.queue.length === 16, '16 requests waiting');

    // 300 more than the queue holds (more than the tokenizer's 256 handles): refused before any registration.
    const flood = await Promise.all(Array.from({ length: 300 }, (_, k) => client.chat.completions.create(chatBody(`flood ${k}`)).catch((error: unknown) => error)));
    const refused = flood.filter((answer) => answer instanceof OpenAI.APIError);
    for (const refusal of refused) expect(refusal).toMatchObject({ status: 429, code: 'queue_full' });
    // one that arrived once the queue had room is served, with its own text
    flood.forEach((answer, k) => answer instanceof OpenAI.APIError || expect((answer as OpenAI.Chat.ChatCompletion).choices[0].message.content).toBe(`flood ${k}`));
    expect(refused.length).toBeGreaterThan(256);

    expect((await first).choices[0].message.content).toBe(running.repeat(100));
    const answers = await Promise.all(queued);
    answers.forEach((answer, k) => {
      expect(answer.choices[0].message.content).toBe(`queued request number ${k}`);
      expect(answer.choices[0].finish_reason).toBe('stop');
    });
  });

  it('a foreign local client trying the tokenizer port learns and changes nothing', async () => {
    const base = `http://127.0.0.1:${service.tokenizer.snapshot().port}`;
    const asRunner = { 'content-type': 'application/json' }; // everything the guard checks is right: only the peer is foreign
    const content = 'a turn nobody else may touch. ';
    const ask = async (onChunk: () => Promise<void>) => {
      writeFileSync(service.faultFile, JSON.stringify({ repeat: 20 }));
      const stream = await client.chat.completions.create({ ...chatBody(content), stream: true, stream_options: { include_usage: true } });
      let usage: OpenAI.CompletionUsage | null | undefined = null;
      let poked: Promise<void> | null = null;
      let text = '';
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        usage = chunk.usage ?? usage;
        if (text.length > content.length) poked ??= onChunk();
      }
      await poked;
      return { text, usage };
    };
    const undisturbed = await ask(async () => undefined);

    const foreign: { path: string; status: number; body: unknown }[] = [];
    const disturbed = await ask(async () => {
      for (let k = 0; k < 5; k++) {
        // an eos id, a final-looking call and a plain line: each would end or corrupt the turn if taken as the runner's
        for (const [path, body] of [
          ['/decode', { token_ids: [151645] }],
          ['/decode', { token_ids: [9707, 1879, 0, 151645] }],
          ['/encode', { text: 'hello' }],
          ['/turns/current', {}],
          ['/register', { prompt: 'x', contextWindow: 100 }],
        ] as const) {
          const res = await fetch(base + path, { method: 'POST', headers: asRunner, body: JSON.stringify(body) });
          foreign.push({ path, status: res.status, body: await res.json() });
        }
      }
    });

    // The turn is exactly what it is undisturbed: same text, same usage (the runner's final /decode).
    expect(disturbed.text).toBe(content.repeat(20));
    expect(undisturbed.text).toBe(content.repeat(20));
    expect(disturbed.usage).toEqual(undisturbed.usage);
    // The foreign client got stateless answers: the text of its own ids, the upstream encoding of its line, no other door.
    expect(foreign.filter((f) => f.path === '/decode').map((f) => f.body)).toEqual(
      Array.from({ length: 5 }, () => [{ text: '<|im_end|>' }, { text: 'Hello world!<|im_end|>' }]).flat(),
    );
    for (const f of foreign.filter((f) => f.path === '/encode')) expect(f).toMatchObject({ status: 200, body: { token_ids: expect.any(Array) } });
    for (const f of foreign.filter((f) => f.path === '/turns/current' || f.path === '/register')) expect(f.status).toBe(404);
    await expectNormalAnswer(service, 'served normally after the foreign client');
  });
});
