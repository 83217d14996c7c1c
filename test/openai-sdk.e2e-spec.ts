/**
 * Conformance with the official `openai` npm client (v6) over real HTTP, against ChatModule with a
 * fake ModelService (the same HTTP layer the service runs; see openai-real.e2e-spec.ts for the
 * real service driving the runner emulator).
 */
import { ChatTestApp, createChatTestApp } from './doubles/chat';
import { fakeAnswer } from './doubles/chat';
import { ModelProcessError, ModelUnavailableError, QueueFullError } from '@qwen/model';
import { ContextLengthExceededError } from '@qwen/tokenizer';
import OpenAI from 'openai';
import { Observable } from 'rxjs';

describe('OpenAI SDK against ChatModule (fake model)', () => {
  let t: ChatTestApp;
  let client: OpenAI;

  beforeAll(async () => {
    t = await createChatTestApp({ acceptAnyModelName: false }, true);
    client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: 'sk-anything', maxRetries: 0 });
  });
  afterAll(() => t.close());
  beforeEach(() => {
    t.model.behaviour = (request) => {
      const text = request.messages?.at(-1)?.content ?? request.prompt ?? '';
      return fakeAnswer(text, { chunks: Array.from(text), promptTokens: 17, completionTokens: Array.from(text).length });
    };
  });

  const ask = (content: string) => ({ model: 'qwen2.5', messages: [{ role: 'user' as const, content }] });

  it('chat.completions.create without streaming', async () => {
    const { data, response } = await client.chat.completions.create(ask('Bonjour, 世界 🌍')).withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.id).toMatch(/^chatcmpl-/);
    expect(data.choices[0].message).toMatchObject({ role: 'assistant', content: 'Bonjour, 世界 🌍' });
    expect(data.choices[0].finish_reason).toBe('stop');
    expect(data.usage).toEqual({ prompt_tokens: 17, completion_tokens: 13, total_tokens: 30 });
    expect(response.headers.get('x-qwen-sampling')).toBe('temperature=0.9; top_k=10');
  });

  it('chat.completions.create with streaming, and include_usage', async () => {
    const stream = await client.chat.completions.create({ ...ask('streamed 文字'), stream: true, stream_options: { include_usage: true } });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('streamed 文字');
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.at(-2)?.choices[0].finish_reason).toBe('stop');
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage).toEqual({ prompt_tokens: 17, completion_tokens: 11, total_tokens: 28 });
  });

  it('the .stream() helper and finalChatCompletion()', async () => {
    const deltas: string[] = [];
    const runner = client.chat.completions.stream({ ...ask('helper ✓'), stream_options: { include_usage: true } });
    runner.on('content', (delta) => deltas.push(delta));
    const final = await runner.finalChatCompletion();
    expect(final.choices[0].message.content).toBe('helper ✓');
    expect(final.choices[0].finish_reason).toBe('stop');
    expect(deltas.join('')).toBe('helper ✓');
    expect(final.usage?.total_tokens).toBe(17 + 8);
  });

  it('legacy completions.create', async () => {
    const completion = await client.completions.create({ model: 'qwen2.5', prompt: 'raw text', max_tokens: 20 });
    expect(completion.choices[0].text).toBe('raw text');
    expect(t.model.requests.at(-1)).toMatchObject({ prompt: 'raw text', maxTokens: 20 });
  });

  it('models.list() and models.retrieve() with a slash in the id', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(['qwen2.5']);
    const model = await client.models.retrieve('Qwen/Qwen2.5-1.5B-Instruct');
    expect(model.id).toBe('qwen2.5');
  });

  describe('errors surface as the SDK classes', () => {
    it('BadRequestError naming the field', async () => {
      const error = await client.chat.completions.create({ ...ask('x'), temperature: 3 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error).toMatchObject({ status: 400, param: 'temperature', type: 'invalid_request_error' });
    });

    it('BadRequestError context_length_exceeded', async () => {
      t.model.behaviour = () => new Observable((s) => s.error(new ContextLengthExceededError(1500, 1024, undefined)));
      const error = await client.chat.completions.create(ask('long')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error).toMatchObject({ code: 'context_length_exceeded' });
    });

    it('NotFoundError for an unknown model', async () => {
      const error = await client.chat.completions.create({ ...ask('x'), model: 'gpt-4o' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.NotFoundError);
      expect(error).toMatchObject({ code: 'model_not_found' });
      await expect(client.models.retrieve('gpt-4o')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    });

    it('RateLimitError when the queue is full', async () => {
      t.model.behaviour = () => new Observable((s) => s.error(new QueueFullError(16, 5)));
      const error = await client.chat.completions.create({ ...ask('x'), stream: true }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.RateLimitError);
      expect((error as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('5');
    });

    it('InternalServerError (503) while the model loads', async () => {
      t.model.behaviour = () => new Observable((s) => s.error(new ModelUnavailableError('the model is loading', 10)));
      const error = await client.chat.completions.create(ask('x')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.InternalServerError);
      expect(error).toMatchObject({ status: 503, code: 'model_unavailable' });
    });

    it('APIError from an error event after the stream began', async () => {
      t.model.behaviour = () =>
        new Observable((s) => {
          for (const event of fakeAnswer('par').slice(0, 2)) s.next(event);
          s.error(new ModelProcessError('the model process failed during the request'));
        });
      const stream = await client.chat.completions.create({ ...ask('x'), stream: true });
      const seen: string[] = [];
      const error = await (async () => {
        for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? '');
      })().catch((e: unknown) => e);
      expect(seen.join('')).toBe('par');
      expect(error).toBeInstanceOf(OpenAI.APIError);
      expect(error).toMatchObject({ code: 'model_process_failed', type: 'server_error' });
    });

    it('AuthenticationError with a wrong key when keys are configured', async () => {
      const secured = await createChatTestApp({ apiKeys: ['sk-right'] }, true);
      try {
        const wrong = new OpenAI({ baseURL: `${secured.url}/v1`, apiKey: 'sk-wrong', maxRetries: 0 });
        await expect(wrong.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
        const right = new OpenAI({ baseURL: `${secured.url}/v1`, apiKey: 'sk-right', maxRetries: 0 });
        const answer = await right.chat.completions.create(ask('authorised'));
        expect(answer.choices[0].message.content).toBe('authorised');
      } finally {
        await secured.close();
      }
    });
  });
});
