/**
 * The OpenAI Responses API (`POST /v1/responses`) against the REAL service: HTTP API, tokenizer server
 * process and the runner emulator under node-pty, with the official clients that default to it — the
 * `openai` 6 SDK, `@openai/agents` 0.14 and the AI SDK's `@ai-sdk/openai` 3 provider. The emulator
 * answers with the text of the last user turn of the prompt: a user message holding a `<tool_call>`
 * block makes it "call" a tool, and after a function_call_output its answer is the `<tool_response>`
 * block the chat template rendered — proof the output reached the prompt. Requires `npm run build`.
 */
import { createOpenAI } from '@ai-sdk/openai';
import { Agent, run, setDefaultOpenAIClient, setTracingDisabled, tool } from '@openai/agents';
import { TestService, startTestService } from '@qwen/testing';
import { streamText } from 'ai';
import { writeFileSync } from 'node:fs';
import OpenAI from 'openai';
import { z } from 'zod';

jest.setTimeout(60000);

const WEATHER_TOOL = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
};

/** What the emulator "answers" when the last user message is this text: a call of get_weather. */
/** A fetch that records the paths a client calls (to prove which API it used). */
function recordingFetch(paths: string[]): typeof fetch {
  return (input, init) => {
    paths.push(new URL(input instanceof Request ? input.url : String(input)).pathname);
    return fetch(input, init);
  };
}

const CALL_PARIS = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';

describe('the Responses API against the real service and the runner emulator', () => {
  let service: TestService;
  let client: OpenAI;

  beforeAll(async () => {
    // 20 ms per token: an answer the size of the window takes far longer than a test unless it is cancelled.
    service = await startTestService({ emulatorEnv: { QWEN_EMU_TOKEN_MS: '20' } });
    client = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: 'sk-not-checked', maxRetries: 0 });
  });
  afterAll(() => service?.close());

  describe('openai SDK responses.create', () => {
    it('answers a string input: output_text, usage, status and the echoed fields', async () => {
      const { data, response } = await client.responses
        .create({ model: 'qwen2.5', input: 'Hello there 你好 🚀', metadata: { ticket: '42' }, store: true, temperature: 0.2 })
        .withResponse();
      expect(data.id).toMatch(/^resp_[0-9a-f]{48}$/);
      expect(data).toMatchObject({ object: 'response', status: 'completed', model: 'qwen2.5', metadata: { ticket: '42' }, store: false, temperature: 0.2 });
      expect(data.output_text).toBe('Hello there 你好 🚀');
      expect(data.output).toHaveLength(1);
      expect(data.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed' });
      expect(data.usage?.input_tokens).toBeGreaterThan(3);
      expect(data.usage?.output_tokens).toBeGreaterThan(0);
      expect(data.usage?.total_tokens).toBe(data.usage!.input_tokens + data.usage!.output_tokens);
      expect(response.headers.get('x-qwen-sampling')).toMatch(/temperature=/);
    });

    it('is counted in the metrics under its own route, like chat', async () => {
      const counted = async (): Promise<number> => {
        const text = await (await fetch(`${service.url}/metrics`)).text();
        const line = text.split('\n').find((l) => l.startsWith('qwen_requests_total{') && l.includes('route="POST /v1/responses"') && l.includes('status="200"'));
        return line ? Number(line.split(' ').at(-1)) : 0;
      };
      const before = await counted();
      const { response } = await client.responses.create({ model: 'qwen2.5', input: 'count me' }).withResponse();
      expect(response.headers.get('x-request-id')).toBeTruthy();
      expect((await counted()) - before).toBe(1);
    });

    it('reads message items and instructions (the emulator echoes the LAST user message)', async () => {
      const data = await client.responses.create({
        model: 'qwen2.5',
        instructions: 'You are terse.',
        input: [
          { role: 'developer', content: 'Answer in English.' },
          { role: 'user', content: 'first question' },
          { type: 'message', id: 'msg_1', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'first answer', annotations: [] }] },
          { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'second' }, { type: 'input_text', text: 'question' }] },
        ],
      });
      expect(data.output_text).toBe('second\nquestion');
      expect(data.instructions).toBe('You are terse.');
    });

    it('stops at max_output_tokens: status incomplete with the reason', async () => {
      const data = await client.responses.create({ model: 'qwen2.5', input: 'one two three four five six seven eight nine ten', max_output_tokens: 3 });
      expect(data.status).toBe('incomplete');
      expect(data.incomplete_details).toEqual({ reason: 'max_output_tokens' });
      expect(data.usage?.output_tokens).toBe(3);
      expect('one two three four five six seven eight nine ten'.startsWith(data.output_text)).toBe(true);
    });

    it('streams the official events in order, numbered, and the text assembles to the answer', async () => {
      const text = '流式 streaming ✓ works';
      const stream = await client.responses.create({ model: 'qwen2.5', input: text, stream: true });
      const events: OpenAI.Responses.ResponseStreamEvent[] = [];
      for await (const event of stream) events.push(event);
      const types = events.map((e) => e.type);
      expect(types.slice(0, 4)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
      expect(types.slice(-4)).toEqual(['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
      expect(new Set(types.slice(4, -4))).toEqual(new Set(['response.output_text.delta']));
      expect(events.map((e) => e.sequence_number)).toEqual(events.map((_e, i) => i));
      const deltas = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : []));
      expect(deltas.join('')).toBe(text);
      const completed = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
      expect(completed.response.output).toEqual([expect.objectContaining({ type: 'message', content: [expect.objectContaining({ text })] })]);
      expect(completed.response.usage?.output_tokens).toBeGreaterThan(0);

      const final = await client.responses.stream({ model: 'qwen2.5', input: text }).finalResponse();
      expect(final.output_text).toBe(text);
    });

    it('returns a function_call item when the model calls a declared tool', async () => {
      const data = await client.responses.create({ model: 'qwen2.5', input: CALL_PARIS, tools: [WEATHER_TOOL] });
      expect(data.status).toBe('completed');
      expect(data.output).toHaveLength(1);
      const [call] = data.output as OpenAI.Responses.ResponseFunctionToolCall[];
      expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', status: 'completed' });
      expect(call.call_id).toMatch(/^call_/);
      expect(JSON.parse(call.arguments)).toEqual({ city: 'Paris' });
      expect(data.output_text).toBe('');
    });

    it('streams a function call as output_item and function_call_arguments events', async () => {
      const stream = await client.responses.create({ model: 'qwen2.5', input: CALL_PARIS, tools: [WEATHER_TOOL], stream: true });
      const events: OpenAI.Responses.ResponseStreamEvent[] = [];
      for await (const event of stream) events.push(event);
      expect(events.map((e) => e.type)).toEqual([
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.function_call_arguments.delta',
        'response.function_call_arguments.done',
        'response.output_item.done',
        'response.completed',
      ]);
      const done = events[4] as OpenAI.Responses.ResponseFunctionCallArgumentsDoneEvent;
      expect(JSON.parse(done.arguments)).toEqual({ city: 'Paris' });
    });

    it('takes a function_call_output back: the result reaches the prompt as the tool response', async () => {
      const first = await client.responses.create({ model: 'qwen2.5', input: CALL_PARIS, tools: [WEATHER_TOOL] });
      const call = first.output[0] as OpenAI.Responses.ResponseFunctionToolCall;
      const second = await client.responses.create({
        model: 'qwen2.5',
        tools: [WEATHER_TOOL],
        input: [
          { role: 'user', content: 'Weather in Paris?' },
          { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
          { type: 'function_call_output', call_id: call.call_id, output: 'Paris: 21 C, sunny' },
        ],
      });
      expect(second.output_text).toBe('<tool_response>\nParis: 21 C, sunny\n</tool_response>');
    });

    it('answers text.format json_schema with the validated JSON (the object opening is pre-filled)', async () => {
      const data = await client.responses.create({
        model: 'qwen2.5',
        // The emulator continues the pre-filled `{` with the rest of the user message.
        input: '{"city": "Paris"}',
        text: { format: { type: 'json_schema', name: 'place', schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, strict: true } },
      });
      expect(data.status).toBe('completed');
      expect(JSON.parse(data.output_text)).toEqual({ city: 'Paris' });
      expect(data.text?.format).toMatchObject({ type: 'json_schema', name: 'place' });
    });

    it('refuses previous_response_id (400) and retrieving a response (404): the server is stateless', async () => {
      const refused = await client.responses.create({ model: 'qwen2.5', input: 'hi', previous_response_id: 'resp_123' }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
      expect(refused).toMatchObject({ code: 'previous_response_not_found', param: 'previous_response_id' });
      expect((refused as Error).message).toMatch(/stateless/);
      const missing = await client.responses.retrieve('resp_123').catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
      expect((missing as Error).message).toMatch(/stateless/);
    });

    it('answers bad input in OpenAI’s error shape, naming the field', async () => {
      const image = await client.responses
        .create({ model: 'qwen2.5', input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'https://x/y.png', detail: 'auto' }] }] })
        .catch((e: unknown) => e);
      expect(image).toBeInstanceOf(OpenAI.BadRequestError);
      expect((image as Error).message).toMatch(/text only/);
      const hosted = await client.responses.create({ model: 'qwen2.5', input: 'hi', tools: [{ type: 'web_search' }] }).catch((e: unknown) => e);
      expect(hosted).toBeInstanceOf(OpenAI.BadRequestError);
      expect(hosted).toMatchObject({ param: 'tools[0].type' });
    });

    it('a client that leaves a stream stops its generation, so the next request runs at once', async () => {
      writeFileSync(service.faultFile, JSON.stringify({ repeat: 200 }));
      const controller = new AbortController();
      const stream = await client.responses.create({ model: 'qwen2.5', input: 'a long answer that repeats', stream: true }, { signal: controller.signal });
      let received = '';
      await (async () => {
        for await (const event of stream) {
          if (event.type === 'response.output_text.delta') received += event.delta;
          if (received.length > 10) controller.abort();
        }
      })().catch((e: unknown) => {
        if (!(e instanceof OpenAI.APIUserAbortError)) throw e;
      });
      const abortedAt = Date.now();
      await service.waitForModel((s) => s.state === 'ready' && s.queue.inFlight === 0, 'the cancelled generation to stop', 10000);
      // The whole answer would have taken minutes: Ctrl-C reached the runner.
      expect(Date.now() - abortedAt).toBeLessThan(5000);
      const next = await client.responses.create({ model: 'qwen2.5', input: 'next, please' });
      expect(next.output_text).toBe('next, please');
    });
  });

  it('@openai/agents runs an agent with one function tool in its default Responses mode', async () => {
    setTracingDisabled(true);
    const paths: string[] = [];
    setDefaultOpenAIClient(new OpenAI({ baseURL: `${service.url}/v1`, apiKey: 'sk-not-checked', maxRetries: 0, fetch: recordingFetch(paths) }));
    const cities: string[] = [];
    const getWeather = tool({
      name: 'get_weather',
      description: 'The weather in a city',
      parameters: z.object({ city: z.string() }),
      execute: ({ city }) => {
        cities.push(city);
        return `${city}: 21 C, sunny`;
      },
    });
    const agent = new Agent({ name: 'Weather', instructions: 'Use the tool.', model: 'qwen2.5', tools: [getWeather] });
    const result = await run(agent, CALL_PARIS, { maxTurns: 3 });
    expect(cities).toEqual(['Paris']);
    expect(paths).toEqual(['/v1/responses', '/v1/responses']);
    expect(result.finalOutput).toBe('<tool_response>\nParis: 21 C, sunny\n</tool_response>');
  });

  it('the AI SDK default provider (openai(id) = Responses) streams text', async () => {
    const paths: string[] = [];
    const openai = createOpenAI({ baseURL: `${service.url}/v1`, apiKey: 'sk-not-checked', fetch: recordingFetch(paths) });
    const result = streamText({ model: openai('qwen2.5'), prompt: 'AI SDK streaming ✓' });
    const parts: string[] = [];
    for await (const part of result.textStream) parts.push(part);
    expect(parts.join('')).toBe('AI SDK streaming ✓');
    expect(await result.finishReason).toBe('stop');
    expect((await result.usage).outputTokens).toBeGreaterThan(0);
    expect(paths).toEqual(['/v1/responses']);
  });
});
