import { createChatTestApp, ChatTestApp } from './doubles/chat';
import { fakeAnswer, lastUserText } from './doubles/chat';
import { ModelProcessError, QueueFullError } from '@qwen/model';
import { ContextLengthExceededError } from '@qwen/tokenizer';
import { Ollama } from 'ollama';
import { Observable, throwError } from 'rxjs';
import type { GenerationEvent } from '@qwen/model';

/**
 * Conformance with the official `ollama` npm client (v0.6): the HTTP layer over a fake model, so
 * every answer and every error can be chosen. test/ollama-emulator.e2e-spec.ts runs the same
 * client against the real service and the runner emulator.
 */

/** The client's ResponseError (not exported by the package): message = our `error`, status_code = HTTP status. */
async function responseError(promise: Promise<unknown>): Promise<{ name: string; error: string; status_code: number }> {
  try {
    await promise;
  } catch (error) {
    return error as { name: string; error: string; status_code: number };
  }
  throw new Error('expected the client to throw');
}

describe('ollama npm client against the Ollama dialect', () => {
  let t: ChatTestApp;
  let ollama: Ollama;

  beforeAll(async () => {
    t = await createChatTestApp({}, true);
    ollama = new Ollama({ host: t.url });
  });
  afterAll(() => t.close());
  beforeEach(() => {
    t.model.requests.length = 0;
    t.model.cancelled.length = 0;
    t.model.behaviour = (request) => fakeAnswer(lastUserText(request));
  });

  it('chat without streaming returns the whole message and the figures', async () => {
    t.model.behaviour = () => fakeAnswer('Bonjour à tous 👋', { chunks: ['Bon', 'jour à ', 'tous 👋'], promptTokens: 17, completionTokens: 6 });
    const res = await ollama.chat({ model: 'qwen2.5:1.5b', messages: [{ role: 'user', content: 'salut' }], options: { num_predict: 20 } });
    expect(res.message).toEqual({ role: 'assistant', content: 'Bonjour à tous 👋' });
    expect(res).toEqual(
      expect.objectContaining({ model: 'qwen2.5:1.5b', done: true, done_reason: 'stop', prompt_eval_count: 17, eval_count: 6, total_duration: 6_000_000 }),
    );
    expect(t.model.requests[0]).toEqual(expect.objectContaining({ messages: [{ role: 'user', content: 'salut' }], maxTokens: 20 }));
  });

  it('chat with streaming yields the pieces in order and ends with done', async () => {
    t.model.behaviour = () => fakeAnswer('one two three', { chunks: ['one', ' two', ' three'] });
    const stream = await ollama.chat({ model: 'qwen2.5', messages: [{ role: 'user', content: 'count' }], stream: true });
    const parts: string[] = [];
    let last: { done: boolean; done_reason: string; eval_count: number } | null = null;
    for await (const part of stream) {
      parts.push(part.message.content);
      last = part;
    }
    expect(parts.join('')).toBe('one two three');
    expect(parts.slice(0, 3)).toEqual(['one', ' two', ' three']);
    expect(last).toEqual(expect.objectContaining({ done: true, done_reason: 'stop', eval_count: 3 }));
  });

  it('generate with and without streaming', async () => {
    const single = await ollama.generate({ model: 'qwen2.5', prompt: 'echo me', system: 'sys' });
    expect(single.response).toBe('echo me');
    expect(single.done).toBe(true);
    expect(t.model.requests[0].messages).toEqual([
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'echo me' },
    ]);
    t.model.behaviour = () => fakeAnswer('abc', { chunks: ['a', 'b', 'c'], finishReason: 'length' });
    const stream = await ollama.generate({ model: 'qwen2.5', prompt: 'x', stream: true, raw: true, options: { num_predict: 3 } });
    const parts: string[] = [];
    let reason = '';
    for await (const part of stream) {
      parts.push(part.response ?? '');
      if (part.done) reason = part.done_reason;
    }
    expect(parts.join('')).toBe('abc');
    expect(reason).toBe('length');
    expect(t.model.requests[1]).toEqual(expect.objectContaining({ prompt: 'x', maxTokens: 3 }));
  });

  it('list, show, ps and version', async () => {
    const list = await ollama.list();
    expect(list.models.map((m) => m.name)).toEqual(['qwen2.5:1.5b']);
    expect(list.models[0].details).toEqual(expect.objectContaining({ family: 'qwen2', parameter_size: '1.5B', quantization_level: 'GPTQ-Int4' }));
    const show = await ollama.show({ model: list.models[0].name });
    expect(show.capabilities).toEqual(['completion', 'tools']);
    expect((show.model_info as unknown as Record<string, unknown>)['qwen2.context_length']).toBe(1024);
    expect(show.template).toContain('<|im_start|>');
    expect(show.parameters).toMatch(/^temperature\s+0\.9$/m);
    const ps = await ollama.ps();
    expect(ps.models.map((m) => m.name)).toEqual(['qwen2.5:1.5b']);
    expect(await ollama.version()).toEqual({ version: '0.6.4' });
  });

  it('pull of the served model succeeds, streamed or not', async () => {
    expect(await ollama.pull({ model: 'qwen2.5:1.5b' })).toEqual({ status: 'success' });
    const statuses: string[] = [];
    for await (const progress of await ollama.pull({ model: 'qwen2.5', stream: true })) statuses.push(progress.status);
    expect(statuses.at(-1)).toBe('success');
    expect(await responseError(ollama.pull({ model: 'llama3.2' }))).toMatchObject({ name: 'ResponseError', status_code: 404 });
  });

  it('errors surface as the client ResponseError with the status and our message', async () => {
    t.model.behaviour = () => throwError(() => new QueueFullError(16));
    expect(await responseError(ollama.chat({ model: 'qwen2.5', messages: [{ role: 'user', content: 'x' }] }))).toMatchObject({
      name: 'ResponseError',
      status_code: 503,
      error: 'server busy, please try again. maximum pending requests exceeded',
    });
    t.model.behaviour = () => throwError(() => new ContextLengthExceededError(2000, 1024, undefined));
    expect(await responseError(ollama.generate({ model: 'qwen2.5', prompt: 'x', stream: true }))).toMatchObject({ name: 'ResponseError', status_code: 400 });
    expect(await responseError(ollama.chat({ model: 'qwen2.5', messages: [{ role: 'user', content: 'x' }], format: 'yaml' }))).toMatchObject({
      name: 'ResponseError',
      status_code: 400,
      error: expect.stringContaining(`'format' must be "json" or a JSON Schema object`),
    });
    expect(await responseError(ollama.embed({ model: 'qwen2.5', input: 'x' }))).toMatchObject({ name: 'ResponseError', status_code: 501 });
  });

  it('an error in the middle of a stream reaches the iterating code as an Error with our message', async () => {
    t.model.behaviour = () =>
      new Observable<GenerationEvent>((s) => {
        const [start, delta] = fakeAnswer('partial');
        s.next(start);
        s.next(delta);
        s.error(new ModelProcessError('the model process failed during the request (exit status 139)'));
      });
    const stream = await ollama.chat({ model: 'qwen2.5', messages: [{ role: 'user', content: 'x' }], stream: true });
    const parts: string[] = [];
    const failure = await (async () => {
      try {
        for await (const part of stream) parts.push(part.message.content);
      } catch (error) {
        return error as Error;
      }
      return null;
    })();
    expect(parts).toEqual(['partial']);
    expect(failure?.message).toBe('the model process failed during the request (exit status 139)');
  });

  it("abort() of a stream cancels the model's generation", async () => {
    t.model.behaviour = () =>
      new Observable<GenerationEvent>((s) => {
        const [start, delta] = fakeAnswer('first piece');
        s.next(start);
        s.next(delta); // …and never ends on its own
      });
    const stream = await ollama.chat({ model: 'qwen2.5', messages: [{ role: 'user', content: 'x' }], stream: true });
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done ? null : first.value.message.content).toBe('first piece');
    stream.abort();
    await expect(iterator.next()).rejects.toThrow();
    expect(await t.model.whenCancelled()).toBe(t.model.requests[0].requestId);
  });
});
