import {
  GenerationTimeoutError,
  ModelProcessError,
  ModelUnavailableError,
  QueueFullError,
  QueueTimeoutError,
} from '@qwen/model';
import { ContextLengthExceededError, TokenizerUnavailableError } from '@qwen/tokenizer';
import { Observable, Subject } from 'rxjs';
import request from 'supertest';
import type { App } from 'supertest/types';
import { ChatTestApp, createChatTestApp } from '../../../../test/doubles/chat';
import { fakeAnswer } from '../../../../test/doubles/chat';
import { ChatCompletionsController } from './chat-completions.controller';

function sseData(text: string): unknown[] {
  return text
    .split('\n\n')
    .filter((frame) => frame.trim())
    .map((frame) => {
      expect(frame.startsWith('data: ')).toBe(true);
      const data = frame.slice('data: '.length);
      return data === '[DONE]' ? '[DONE]' : JSON.parse(data);
    });
}

interface Chunk {
  id: string;
  created: number;
  object: string;
  choices: Array<{ text?: string; delta: { content?: string }; finish_reason: string | null }>;
  usage?: unknown;
}

const user = (content: unknown) => ({ model: 'qwen2.5', messages: [{ role: 'user', content }] });

describe(ChatCompletionsController.name, () => {
  let t: ChatTestApp;
  let server: App;

  beforeEach(async () => {
    t = await createChatTestApp();
    server = t.app.getHttpServer() as App;
  });
  afterEach(() => t.close());

  describe('POST /v1/chat/completions', () => {
    it('answers in OpenAI chat.completion shape with exact usage and the honest sampling header', async () => {
      t.model.behaviour = () => fakeAnswer('Hello there', { chunks: ['Hello', ' there'], promptTokens: 21, completionTokens: 3 });
      const res = await request(server).post('/v1/chat/completions').send(user('hi')).expect(200);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^chatcmpl-[0-9A-Za-z]{24}$/),
        object: 'chat.completion',
        created: expect.any(Number),
        model: 'qwen2.5',
        system_fingerprint: expect.stringMatching(/^fp_[0-9a-f]{10}$/),
        choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there', refusal: null }, logprobs: null, finish_reason: 'stop' }],
        usage: { prompt_tokens: 21, completion_tokens: 3, total_tokens: 24 },
      });
      expect(Math.abs(res.body.created - Date.now() / 1000)).toBeLessThan(5);
      expect(res.headers['x-qwen-sampling']).toBe('temperature=0.9; top_k=10');
      expect(res.headers['x-request-id']).toBe(res.body.id.slice('chatcmpl-'.length));
      expect(res.headers['x-qwen-truncated-messages']).toBeUndefined();
    });

    it('passes the conversation, the output limit and stop strings to the model; developer is system, text parts joined', async () => {
      await request(server)
        .post('/v1/chat/completions')
        .send({
          model: 'gpt-4o',
          messages: [
            { role: 'developer', content: 'be brief' },
            { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }], name: 'ann' },
            { role: 'assistant', content: 'ok' },
            { role: 'user', content: 'again' },
          ],
          max_completion_tokens: 7,
          stop: ['\n\n', 'END', ''],
          temperature: 0.2,
          top_p: 0.5,
          seed: 3,
          unknown_field: { anything: true },
        })
        .expect(200);
      const sent = t.model.requests[0];
      expect(sent.messages).toEqual([
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'a\nb', name: 'ann' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'again' },
      ]);
      expect(sent.maxTokens).toBe(7);
      expect(sent.stop).toEqual(['\n\n', 'END']);
      expect(sent.requestId).toMatch(/^[0-9A-Za-z]{24}$/);
    });

    it('uses max_tokens when max_completion_tokens is absent, and leaves the limit to the window when both are absent', async () => {
      await request(server).post('/v1/chat/completions').send({ ...user('x'), max_tokens: 5, stop: 'X' }).expect(200);
      await request(server).post('/v1/chat/completions').send(user('y')).expect(200);
      expect(t.model.requests[0].maxTokens).toBe(5);
      expect(t.model.requests[0].stop).toEqual(['X']);
      expect(t.model.requests[1].maxTokens).toBeUndefined();
    });

    it('reports finish_reason length and the dropped messages header', async () => {
      t.model.behaviour = () => fakeAnswer('abc', { finishReason: 'length', droppedMessages: 2 });
      const res = await request(server).post('/v1/chat/completions').send(user('hi')).expect(200);
      expect(res.body.choices[0].finish_reason).toBe('length');
      expect(res.headers['x-qwen-truncated-messages']).toBe('2');
    });

    it('streams SSE chunks with one id, role first, an empty final delta, usage chunk and [DONE]', async () => {
      t.model.behaviour = () => fakeAnswer('你好🙂!', { chunks: ['你好', '🙂', '!'], promptTokens: 9, completionTokens: 4 });
      const res = await request(server)
        .post('/v1/chat/completions')
        .send({ ...user('hi'), stream: true, stream_options: { include_usage: true } })
        .buffer(true)
        .parse((response, callback) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => callback(null, text));
        })
        .expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['x-accel-buffering']).toBe('no');
      expect(res.headers['x-qwen-sampling']).toBe('temperature=0.9; top_k=10');
      const events = sseData(res.body as string) as Array<Record<string, unknown>>;
      expect(events[events.length - 1]).toBe('[DONE]');
      const chunks = events.slice(0, -1) as unknown as Chunk[];
      expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
      expect(new Set(chunks.map((c) => c.created)).size).toBe(1);
      expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
      expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
      expect(chunks.slice(1, 4).map((c) => c.choices[0].delta.content)).toEqual(['你好', '🙂', '!']);
      expect(chunks[4].choices).toEqual([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]);
      expect(chunks.slice(0, 5).every((c) => c.usage === null)).toBe(true);
      expect(chunks[5]).toMatchObject({ choices: [], usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 } });
      expect(chunks).toHaveLength(6);
    });

    it('omits usage from chunks without include_usage', async () => {
      const res = await request(server).post('/v1/chat/completions').send({ ...user('hey'), stream: true }).expect(200);
      const events = sseData(res.text);
      expect(events).toHaveLength(4); // role, content, finish, [DONE]
      for (const chunk of events.slice(0, -1)) expect(chunk).not.toHaveProperty('usage');
    });

    it('writes one error event and closes when the generation fails after the stream began', async () => {
      t.model.behaviour = () =>
        new Observable((s) => {
          for (const event of fakeAnswer('partial').slice(0, 2)) s.next(event);
          s.error(new ModelProcessError('the model process failed during the request (exit signal 9)'));
        });
      const res = await request(server).post('/v1/chat/completions').send({ ...user('x'), stream: true }).expect(200);
      const events = sseData(res.text);
      expect(events).toHaveLength(3);
      expect(events[1]).toMatchObject({ choices: [{ delta: { content: 'partial' } }] });
      expect(events[2]).toEqual({
        error: { message: 'the model process failed during the request (exit signal 9)', type: 'server_error', param: null, code: 'model_process_failed' },
      });
      expect(t.observations).toEqual([expect.objectContaining({ status: 502, dialect: 'openai' })]);
    });
  });

  describe('POST /v1/completions (legacy)', () => {
    it('sends the raw prompt without template, defaults max_tokens to 16 like OpenAI, and answers text_completion', async () => {
      t.model.behaviour = () => fakeAnswer(' world', { promptTokens: 2, completionTokens: 1 });
      const res = await request(server).post('/v1/completions').send({ model: 'qwen2.5', prompt: ['Hello'] }).expect(200);
      expect(t.model.requests[0]).toMatchObject({ prompt: 'Hello', maxTokens: 16 });
      expect(t.model.requests[0].messages).toBeUndefined();
      expect(res.body).toEqual({
        id: expect.stringMatching(/^cmpl-/),
        object: 'text_completion',
        created: expect.any(Number),
        model: 'qwen2.5',
        system_fingerprint: expect.stringMatching(/^fp_/),
        choices: [{ text: ' world', index: 0, logprobs: null, finish_reason: 'stop' }],
        usage: { prompt_tokens: 2, completion_tokens: 1, total_tokens: 3 },
      });
    });

    it('echoes the prompt when asked, and streams text_completion chunks', async () => {
      t.model.behaviour = () => fakeAnswer(' b', { chunks: [' ', 'b'] });
      const echoed = await request(server).post('/v1/completions').send({ model: 'm', prompt: 'a', echo: true, max_tokens: 3 }).expect(200);
      expect(echoed.body.choices[0].text).toBe('a b');
      expect(t.model.requests[0].maxTokens).toBe(3);
      const res = await request(server).post('/v1/completions').send({ model: 'm', prompt: 'a', stream: true }).expect(200);
      const events = sseData(res.text) as Chunk[];
      expect(events.slice(0, 2).map((e) => e.choices[0].text)).toEqual([' ', 'b']);
      expect(events[2]).toMatchObject({ object: 'text_completion', choices: [{ text: '', finish_reason: 'stop' }] });
      expect(events[3]).toBe('[DONE]');
    });

    it.each([
      [{ prompt: ['a', 'b'] }, 'prompt', /only one prompt/],
      [{ prompt: [1, 2, 3] }, 'prompt', /token-id prompts are not supported/],
      [{ prompt: 'a', suffix: 'z' }, 'suffix', /not supported/],
      [{ prompt: 'a', best_of: 2 }, 'best_of', /best_of=1/],
      [{}, 'prompt', /prompt/],
    ])('rejects %j naming %s', async (body, param, message) => {
      const res = await request(server).post('/v1/completions').send({ model: 'm', ...body }).expect(400);
      expect(res.body.error).toEqual({ message: expect.stringMatching(message), type: 'invalid_request_error', param, code: null });
    });
  });

  describe('validation (400 invalid_request_error naming the field)', () => {
    it.each([
      [{ temperature: 2.5 }, 'temperature'],
      [{ temperature: -0.1 }, 'temperature'],
      [{ temperature: '1' }, 'temperature'],
      [{ top_p: 1.5 }, 'top_p'],
      [{ presence_penalty: 2.1 }, 'presence_penalty'],
      [{ frequency_penalty: -3 }, 'frequency_penalty'],
      [{ n: 2 }, 'n'],
      [{ max_tokens: 0 }, 'max_tokens'],
      [{ max_completion_tokens: 1.5 }, 'max_completion_tokens'],
      [{ stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
      [{ stop: 5 }, 'stop'],
      [{ stream: 'yes' }, 'stream'],
      [{ seed: 1.5 }, 'seed'],
      [{ model: '' }, 'model'],
      [{ model: undefined }, 'model'],
      [{ messages: [] }, 'messages'],
      [{ messages: [{ role: 'wizard', content: 'x' }] }, 'messages[0].role'],
      [{ messages: [{ role: 'user' }] }, 'messages[0].content'],
      [{ messages: [{ role: 'user', content: [{ type: 'text' }] }] }, 'messages[0].content'],
      [{ tools: [{ type: 'function', function: { description: 'no name' } }] }, 'tools[0].function.name'],
      [{ tools: [{ type: 'retrieval' }] }, 'tools[0].type'],
      [{ tool_choice: 'required' }, 'tool_choice'],
      [{ tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'function', function: { name: 'g' } } }, 'tool_choice'],
      [{ response_format: { type: 'xml' } }, 'response_format.type'],
      [{ response_format: { type: 'json_schema', json_schema: { name: 'x' } } }, 'response_format.json_schema.schema'],
      [{ messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{oops' } }] }] }, 'messages[0].tool_calls[0].function.arguments'],
      [{ stream_options: { include_usage: 'yes' } }, 'stream_options.include_usage'],
    ])('%j → param %s', async (patch, param) => {
      const res = await request(server)
        .post('/v1/chat/completions')
        .send({ ...user('hi'), ...patch })
        .expect(400);
      expect(res.body).toEqual({ error: { message: expect.stringContaining(`'${param}'`), type: 'invalid_request_error', param, code: null } });
      expect(t.model.requests).toHaveLength(0);
    });

    it('says images are not supported', async () => {
      const res = await request(server)
        .post('/v1/chat/completions')
        .send(user([{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }]))
        .expect(400);
      expect(res.body.error.message).toMatch(/images are not supported/);
      expect(res.body.error.param).toBe('messages[0].content');
    });

    it('accepts the in-range sampling fields, null optionals, an empty tools list and response_format text', async () => {
      await request(server)
        .post('/v1/chat/completions')
        .send({
          ...user('hi'),
          temperature: 2,
          top_p: 0,
          top_k: 40,
          n: 1,
          presence_penalty: -2,
          frequency_penalty: 2,
          seed: 42,
          user: 'u-1',
          max_tokens: null,
          stop: null,
          tools: [],
          tool_choice: 'none',
          response_format: { type: 'text' },
          stream: false,
          logprobs: false,
        })
        .expect(200);
    });

    it('says a body that is not a JSON object (or not sent as JSON) cannot be parsed', async () => {
      const form = await request(server).post('/v1/chat/completions').type('form').send('model=qwen2.5').expect(400);
      expect(form.body.error).toMatchObject({ type: 'invalid_request_error', message: expect.stringMatching(/Content-Type: application\/json/) });
      const array = await request(server).post('/v1/chat/completions').send([user('hi')]).expect(400);
      expect(array.body.error.message).toMatch(/expected a JSON object/);
    });

    it('answers malformed JSON with 400 and an over-limit body with 413, in OpenAI shape', async () => {
      const bad = await request(server).post('/v1/chat/completions').set('Content-Type', 'application/json').send('{"model": ').expect(400);
      expect(bad.body.error).toMatchObject({ type: 'invalid_request_error', message: expect.stringMatching(/could not parse the JSON/) });
      const small = await createChatTestApp({ bodyLimit: '1kb' });
      try {
        const big = await request(small.app.getHttpServer() as App)
          .post('/v1/chat/completions')
          .send(user('x'.repeat(5000)))
          .expect(413);
        expect(big.body.error).toMatchObject({ type: 'invalid_request_error', code: 'request_too_large' });
      } finally {
        await small.close();
      }
    });
  });

  describe('errors of the model (status, code, Retry-After)', () => {
    it.each([
      [new QueueFullError(16, 5), 429, 'rate_limit_error', 'queue_full', '5'],
      [new ModelUnavailableError('the model is loading', 10), 503, 'server_error', 'model_unavailable', '10'],
      [new QueueTimeoutError(120000), 503, 'server_error', 'queue_timeout', '5'],
      [new TokenizerUnavailableError('tokenizer unavailable (restarting)'), 503, 'server_error', 'tokenizer_unavailable', '5'],
      [new ModelProcessError('the model process failed'), 502, 'server_error', 'model_process_failed', undefined],
      [new GenerationTimeoutError(600000), 504, 'server_error', 'generation_timeout', undefined],
      [new ContextLengthExceededError(1100, 1024, 50), 400, 'invalid_request_error', 'context_length_exceeded', undefined],
      [new Error('kaboom: secret internals'), 500, 'server_error', null, undefined],
    ])('%p → %i', async (error, status, type, code, retryAfter) => {
      t.model.behaviour = () => new Observable((s) => s.error(error));
      for (const stream of [false, true]) {
        const res = await request(server)
          .post('/v1/chat/completions')
          .send({ ...user('hi'), stream })
          .expect(status);
        expect(res.headers['content-type']).toMatch(/application\/json/);
        expect(res.body.error).toMatchObject({ type, code });
        expect(res.headers['retry-after']).toBe(retryAfter);
        if (status === 500) expect(res.body.error.message).not.toMatch(/kaboom/);
        if (code === 'context_length_exceeded') expect(res.body.error.param).toBe('messages');
      }
    });

    it('names prompt as the param of a window overflow on the legacy endpoint', async () => {
      t.model.behaviour = () => new Observable((s) => s.error(new ContextLengthExceededError(2000, 1024, undefined)));
      const res = await request(server).post('/v1/completions').send({ model: 'm', prompt: 'long' }).expect(400);
      expect(res.body.error).toMatchObject({ code: 'context_length_exceeded', param: 'prompt' });
    });

    it('tells the SDK not to retry a generation timeout', async () => {
      t.model.behaviour = () => new Observable((s) => s.error(new GenerationTimeoutError(1000)));
      const res = await request(server).post('/v1/chat/completions').send(user('hi')).expect(504);
      expect(res.headers['x-should-retry']).toBe('false');
    });
  });

  describe('unknown routes', () => {
    it('answers 404 in OpenAI shape under /v1', async () => {
      const res = await request(server).post('/v1/embeddings').send({}).expect(404);
      expect(res.body).toEqual({ error: { message: 'Invalid URL (POST /v1/embeddings)', type: 'invalid_request_error', param: null, code: null } });
    });

    it('leaves other paths to Nest', async () => {
      const res = await request(server).get('/somewhere').expect(404);
      expect(res.body).toMatchObject({ statusCode: 404 });
    });
  });

  it('keeps a queued request open until the model starts it', async () => {
    const events = new Subject<import('@qwen/model').GenerationEvent>();
    t.model.behaviour = () => events;
    const pending = request(server).post('/v1/chat/completions').send(user('hi'));
    const done = pending.then((r) => r);
    await t.model.whenRequested();
    for (const event of fakeAnswer('late')) events.next(event);
    events.complete();
    const res = await done;
    expect(res.status).toBe(200);
    expect(res.body.choices[0].message.content).toBe('late');
  });
});
